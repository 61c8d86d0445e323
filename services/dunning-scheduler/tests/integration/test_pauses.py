"""Promises to pay and holds pause a case; a broken promise resumes it and can escalate it."""

from datetime import timedelta

from scheduler_testkit import START, cleared, eventually, new_loan_id, overdue


async def open_case(scheduler, days: int = 3) -> tuple[str, dict]:
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, days)))
    await scheduler.settled()
    return loan_id, await scheduler.case_of(loan_id)


async def promise(scheduler, case_id: str, in_days: int = 3) -> dict:
    body = {"amount": "1200.00", "date": (scheduler.clock.now() + timedelta(days=in_days)).date().isoformat()}
    response = await scheduler.client.post(f"/v1/cases/{case_id}/promises", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_promise_pauses_reminders_and_a_kept_one_sends_nothing(scheduler):
    loan_id, case = await open_case(scheduler)
    sent_before = len(await scheduler.bus.reminders(loan_id))

    await promise(scheduler, case["case_id"])
    paused = await scheduler.case_of(loan_id)
    scheduler.clock.advance(days=2)
    await scheduler.settled()
    await scheduler.handled(await scheduler.bus.send("OverdueCleared", cleared(loan_id, scheduler.clock.now())))
    scheduler.clock.advance(days=30)
    await scheduler.settled()

    assert paused["status"] == "paused"
    assert paused["next_actions"] == [{"kind": "resume", "due_at": paused["next_action_at"], "reason": "the pause ends"}]
    assert len(await scheduler.bus.reminders(loan_id)) == sent_before
    assert (await scheduler.case_of(loan_id))["status"] == "resolved"
    assert await scheduler.scalar("SELECT status FROM scheduler.promises") == "kept"


async def test_a_broken_promise_resumes_the_reminders(scheduler):
    loan_id, case = await open_case(scheduler)
    sent_before = len(await scheduler.bus.reminders(loan_id))

    await promise(scheduler, case["case_id"], in_days=1)
    scheduler.clock.advance(days=4)  # promised date + 2 days of grace have passed
    await scheduler.settled()

    resumed = await scheduler.case_of(loan_id)
    assert (resumed["status"], resumed["broken_promises"]) == ("open", 1)
    assert {"promise_broken", "resumed"} <= {h["kind"] for h in resumed["history"]}
    assert len(await scheduler.bus.reminders(loan_id)) > sent_before


async def test_two_broken_promises_send_the_case_to_legal(scheduler):
    loan_id, case = await open_case(scheduler, days=20)

    for _ in range(2):
        await promise(scheduler, case["case_id"], in_days=1)
        scheduler.clock.advance(days=4)
        await scheduler.settled()

    escalations = await eventually(lambda: scheduler.bus.escalations(loan_id), what="CaseEscalated")
    assert (escalations[-1]["to_stage"], escalations[-1]["reason"]) == ("legal", "broken promises 2 >= 2")
    assert (await scheduler.case_of(loan_id))["stage"] == "legal"


async def test_a_hold_pauses_the_case_until_it_expires(scheduler):
    loan_id, case = await open_case(scheduler)
    sent_before = len(await scheduler.bus.reminders(loan_id))
    body = {"reason": "dispute", "expires_at": (START + timedelta(days=10)).isoformat(), "note": "amount disputed"}

    response = await scheduler.client.post(f"/v1/cases/{case['case_id']}/holds", json=body)
    scheduler.clock.advance(days=5)
    await scheduler.settled()
    during = await scheduler.case_of(loan_id)
    scheduler.clock.advance(days=6)
    await scheduler.settled()

    assert response.status_code == 201, response.text
    assert (during["status"], during["pause_reason"]) == ("paused", "hold: dispute")
    assert (await scheduler.case_of(loan_id))["status"] == "open"
    assert len(await scheduler.bus.reminders(loan_id)) > sent_before


async def test_a_hold_with_an_unknown_reason_is_refused(scheduler):
    _, case = await open_case(scheduler)
    body = {"reason": "vacation", "expires_at": (START + timedelta(days=10)).isoformat()}

    response = await scheduler.client.post(f"/v1/cases/{case['case_id']}/holds", json=body)

    assert response.status_code == 422
    assert "reason" in response.json()["detail"]


async def test_a_promise_on_an_unknown_case_is_not_found(scheduler):
    response = await scheduler.client.post(
        "/v1/cases/00000000-0000-0000-0000-000000000000/promises", json={"amount": "1", "date": "2026-12-01"}
    )
    assert response.status_code == 404
