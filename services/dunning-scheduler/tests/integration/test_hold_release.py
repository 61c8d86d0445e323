"""A hold can be lifted before it expires: the case resumes at once unless something else pauses it."""

from datetime import timedelta

from dunning_contracts import Topics
from scheduler_testkit import START, cleared, new_loan_id, overdue


async def open_case(scheduler) -> tuple[str, str]:
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 3)))
    await scheduler.settled()
    return loan_id, (await scheduler.case_of(loan_id))["case_id"]


async def hold(scheduler, case_id: str, days: int = 10) -> str:
    body = {"reason": "dispute", "expires_at": (START + timedelta(days=days)).isoformat()}
    response = await scheduler.client.post(f"/v1/cases/{case_id}/holds", json=body)
    assert response.status_code == 201, response.text
    return response.json()["hold_id"]


async def release(scheduler, case_id: str, hold_id: str):
    return await scheduler.client.post(f"/v1/cases/{case_id}/holds/{hold_id}/release")


async def test_a_released_hold_resumes_the_case_at_once(scheduler):
    loan_id, case_id = await open_case(scheduler)
    sent_before = len(await scheduler.bus.reminders(loan_id))
    hold_id = await hold(scheduler, case_id)
    scheduler.clock.advance(days=2)

    response = await release(scheduler, case_id, hold_id)
    await scheduler.settled()

    case = await scheduler.case_of(loan_id)
    released = [e.data for e in await scheduler.bus.events(Topics.CASE_EVENTS, loan_id) if e.type == "HoldReleased"]
    assert response.status_code == 200, response.text
    assert (response.json()["case_status"], response.json()["released_because"]) == ("open", "released")
    assert (case["status"], case["paused_until"]) == ("open", None)
    assert case["holds"][0]["released_because"] == "released"
    assert [(r["hold_id"], r["released_because"]) for r in released] == [(hold_id, "released")]
    assert {"hold_released", "resumed"} <= {h["kind"] for h in case["history"]}
    assert len(await scheduler.bus.reminders(loan_id)) > sent_before


async def test_a_case_held_twice_stays_paused_until_the_other_hold_ends(scheduler):
    loan_id, case_id = await open_case(scheduler)
    short = await hold(scheduler, case_id, days=5)
    long = await hold(scheduler, case_id, days=10)

    response = await release(scheduler, case_id, long)
    during = await scheduler.case_of(loan_id)
    scheduler.clock.advance(days=6)
    await scheduler.settled()

    assert response.status_code == 200, response.text
    assert (during["status"], during["paused_until"][:10]) == ("paused", (START + timedelta(days=5)).date().isoformat())
    assert [a["kind"] for a in during["next_actions"]] == ["resume"]
    assert (await scheduler.case_of(loan_id))["status"] == "open"
    assert {h["hold_id"]: h["released_because"] for h in (await scheduler.case_of(loan_id))["holds"]} == {short: "expired", long: "released"}


async def test_releasing_a_hold_twice_is_a_conflict_and_an_unknown_one_is_not_found(scheduler):
    _, case_id = await open_case(scheduler)
    hold_id = await hold(scheduler, case_id)
    await release(scheduler, case_id, hold_id)

    again = await release(scheduler, case_id, hold_id)
    unknown = await release(scheduler, case_id, "00000000-0000-0000-0000-000000000000")
    no_case = await release(scheduler, "00000000-0000-0000-0000-000000000000", hold_id)

    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert "already released" in again.json()["detail"]
    assert (unknown.status_code, no_case.status_code) == (404, 404)


async def test_a_hold_of_a_resolved_case_cannot_be_released(scheduler):
    loan_id, case_id = await open_case(scheduler)
    hold_id = await hold(scheduler, case_id)
    await scheduler.handled(await scheduler.bus.send("OverdueCleared", cleared(loan_id, scheduler.clock.now())))

    response = await release(scheduler, case_id, hold_id)

    assert response.status_code == 409
    assert "resolved" in response.json()["detail"]
