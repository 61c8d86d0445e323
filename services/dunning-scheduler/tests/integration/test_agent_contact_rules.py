"""The agent queue keeps the contact rules: calls only in the borrower's local contact hours, at most 3
conversations and 6 attempts per borrower and local day, field visits in daytime only."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from scheduler_testkit import START, booked, new_loan_id, overdue

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(hour: int, minute: int = 0, day: int = 27) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


async def widen_contact_window(scheduler) -> None:
    """A policy window wider than the law allows: the CN hours (until 22:00) still bind agent calls."""
    policy = (await scheduler.client.get("/v1/policy")).json()
    policy["contact_window"] = {"start": "07:00:00", "end": "23:00:00"}
    assert (await scheduler.client.put("/v1/policy", json=policy)).status_code == 200


async def phone_cases(scheduler, count: int, borrower_id: str | None = None) -> list[str]:
    """Loans 16 days late (the phone stage queues a call at once), all of one borrower when named."""
    loans = [new_loan_id() for _ in range(count)]
    for loan_id in loans:
        event = overdue(loan_id, 16, "3000.00")
        event = event.model_copy(update={"borrower_id": borrower_id}) if borrower_id else event
        await scheduler.handled(await scheduler.bus.send("LoanOverdue", event))
    await scheduler.settled()
    return loans


async def claim(scheduler, agent: str = "agent-7", limit: int = 1, kinds: list[str] | None = None) -> list[dict]:
    body = {"agent_id": agent, "limit": limit} | ({"kinds": kinds} if kinds else {})
    response = await scheduler.client.post("/v1/agent-tasks/claim", json=body)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def complete(scheduler, task: dict, outcome: str) -> None:
    body = {"agent_id": "agent-7", "outcome": outcome}
    response = await scheduler.client.post(f"/v1/agent-tasks/{task['task_id']}/complete", json=body)
    assert response.status_code == 200, response.text


async def queued(scheduler) -> dict[str, dict]:
    items = (await scheduler.client.get("/v1/agent-tasks")).json()["items"]
    return {task["loan_id"]: task for task in items}


async def test_a_call_is_handed_out_at_21_59_borrower_time_but_not_at_22_00(scheduler):
    await widen_contact_window(scheduler)
    [loan_id] = await phone_cases(scheduler, 1)

    scheduler.clock.set(shanghai(22, 0))
    assert await claim(scheduler) == []
    waiting = (await queued(scheduler))[loan_id]["waiting"]
    assert waiting["reason"] == "contact_window"
    assert datetime.fromisoformat(waiting["until"]) == datetime(2026, 11, 28, 8, 0, tzinfo=SHANGHAI)

    scheduler.clock.set(shanghai(21, 59))
    assert (await queued(scheduler))[loan_id]["waiting"] is None
    assert [t["loan_id"] for t in await claim(scheduler)] == [loan_id]


async def test_the_window_is_the_borrowers_own_clock(scheduler):
    berlin = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanBooked", booked(berlin, START.date(), timezone="Europe/Berlin")))
    [shanghai_loan] = await phone_cases(scheduler, 1)
    await phone_cases_of(scheduler, berlin)

    scheduler.clock.set(shanghai(22, 30))  # 15:30 in Berlin

    assert [t["loan_id"] for t in await claim(scheduler, limit=5)] == [berlin]
    assert (await queued(scheduler))[shanghai_loan]["waiting"]["reason"] == "contact_window"


async def phone_cases_of(scheduler, loan_id: str) -> None:
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 16, "3000.00")))
    await scheduler.settled()


async def test_after_three_conversations_today_a_fourth_call_waits_for_tomorrow(scheduler):
    loans = await phone_cases(scheduler, 4, borrower_id="B-talkative")
    for _ in range(3):
        [task] = await claim(scheduler)
        await complete(scheduler, task, "contacted")

    assert await claim(scheduler) == []
    [fourth] = [t for t in (await queued(scheduler)).values() if t["loan_id"] in loans]
    assert fourth["waiting"]["reason"] == "daily_call_cap"
    assert datetime.fromisoformat(fourth["waiting"]["until"]) == datetime(2026, 11, 28, 8, 0, tzinfo=SHANGHAI)

    scheduler.clock.set(shanghai(8, 0, day=28))
    assert fourth["task_id"] in [t["task_id"] for t in await claim(scheduler, limit=10)]


async def test_after_six_attempts_today_a_seventh_call_waits_while_other_borrowers_are_still_called(scheduler):
    loans = await phone_cases(scheduler, 7, borrower_id="B-unanswered")
    other = (await phone_cases(scheduler, 1))[0]
    for _ in range(6):
        [task] = await claim(scheduler, kinds=["agent_call"])
        assert task["loan_id"] in loans
        await complete(scheduler, task, "no_answer")

    assert [t["loan_id"] for t in await claim(scheduler, limit=5)] == [other]
    [seventh] = [t for t in (await queued(scheduler)).values() if t["loan_id"] in loans]
    assert seventh["waiting"]["reason"] == "daily_attempt_cap"


async def test_two_calls_claimed_at_once_for_one_borrower_count_as_two_attempts(scheduler):
    await phone_cases(scheduler, 8, borrower_id="B-busy")

    assert len(await claim(scheduler, limit=10)) == 6


async def test_a_field_visit_is_handed_out_in_daytime_only(scheduler):
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 31, "8000.00")))
    await scheduler.settled()

    scheduler.clock.set(shanghai(18, 0))
    assert await claim(scheduler, kinds=["field_visit"]) == []
    visits = [t for t in (await scheduler.client.get("/v1/agent-tasks", params={"kind": "field_visit"})).json()["items"]]
    assert visits[0]["waiting"]["reason"] == "field_visit_hours"

    scheduler.clock.set(shanghai(17, 59))
    assert [t["kind"] for t in await claim(scheduler, kinds=["field_visit"])] == ["field_visit"]

