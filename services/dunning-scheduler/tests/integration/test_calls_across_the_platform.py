"""Agents' calls and voice reminders are counted together, in the borrower's own jurisdiction: an agent's
completed call goes on the bus for notification's guard (ContactAttempted), and the voice reminders
notification reports (ReminderSent) count against an agent's claim."""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dunning_contracts import Topics
from dunning_contracts.events import ReminderSent
from scheduler_testkit import START, booked, new_loan_id, overdue



SHANGHAI = ZoneInfo("Asia/Shanghai")
CHICAGO = ZoneInfo("America/Chicago")


def chicago(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=CHICAGO).astimezone(UTC)


async def widen_contact_window(scheduler) -> None:
    """A policy window wider than the law allows, so that the jurisdiction's own hours are what bind."""
    policy = (await scheduler.client.get("/v1/policy")).json()
    policy["contact_window"] = {"start": "07:00:00", "end": "23:00:00"}
    assert (await scheduler.client.put("/v1/policy", json=policy)).status_code == 200


async def phone_cases(scheduler, count: int, borrower_id: str) -> list[str]:
    """Loans of one borrower 16 days late: the phone stage queues an agent call for each at once."""
    return await phone_cases_of_loans(scheduler, [new_loan_id() for _ in range(count)], borrower_id)


async def claim(scheduler, limit: int = 1) -> list[dict]:
    response = await scheduler.client.post("/v1/agent-tasks/claim", json={"agent_id": "agent-7", "limit": limit})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def complete(scheduler, task: dict, outcome: str) -> None:
    body = {"agent_id": "agent-7", "outcome": outcome}
    response = await scheduler.client.post(f"/v1/agent-tasks/{task['task_id']}/complete", json=body)
    assert response.status_code == 200, response.text


async def queued(scheduler) -> dict[str, dict]:
    items = (await scheduler.client.get("/v1/agent-tasks")).json()["items"]
    return {task["loan_id"]: task for task in items}


async def voice_reminder(scheduler, loan_id: str, *statuses: str, at: datetime | None = None) -> None:
    """notification's reports of one voice reminder to the loan's borrower: sent, then perhaps delivered."""
    reminder_id, at = str(uuid.uuid4()), at or scheduler.clock.now()
    events = [
        await scheduler.bus.send("ReminderSent", ReminderSent(
            reminder_id=reminder_id, loan_id=loan_id, channel="voice", status=status, provider="voice-a", occurred_at=at,
        ))
        for status in statuses
    ]
    await scheduler.handled(*events)


async def waiting_reasons(scheduler, loans: list[str]) -> set[str | None]:
    tasks = await queued(scheduler)
    return {(tasks[loan]["waiting"] or {}).get("reason") for loan in loans if loan in tasks}


async def test_a_completed_call_goes_on_the_bus_without_the_borrowers_contact_data(scheduler):
    [loan_id] = await phone_cases(scheduler, 1, borrower_id="B-reported")
    [task] = await claim(scheduler)
    await complete(scheduler, task, "refused")
    await scheduler.settled()

    [event] = [e for e in await scheduler.bus.events(Topics.CASE_EVENTS, loan_id) if e.type == "ContactAttempted"]
    assert event.data == {
        "case_id": task["case_id"], "loan_id": loan_id, "occurred_at": event.data["occurred_at"], "task_id": task["task_id"],
        "borrower_id": "B-reported", "channel": "phone", "connected": True, "outcome": "refused",
        "agent_id": "agent-7",
    }
    assert datetime.fromisoformat(event.data["occurred_at"]) == scheduler.clock.now()


async def test_two_agent_conversations_and_an_answered_voice_reminder_are_the_days_three(scheduler):
    loans = await phone_cases(scheduler, 3, borrower_id="B-three")
    for _ in range(2):
        [task] = await claim(scheduler)
        await complete(scheduler, task, "contacted")
    await voice_reminder(scheduler, loans[0], "sent")
    assert await waiting_reasons(scheduler, loans) == {None}, "an unanswered voice reminder is no conversation"

    await voice_reminder(scheduler, loans[0], "sent", "delivered")

    assert await claim(scheduler) == []
    assert await waiting_reasons(scheduler, loans) == {"daily_call_cap"}


async def test_five_agent_attempts_and_one_voice_reminder_are_the_days_six(scheduler):
    loans = await phone_cases(scheduler, 6, borrower_id="B-six")
    for _ in range(5):
        [task] = await claim(scheduler)
        await complete(scheduler, task, "no_answer")
    await voice_reminder(scheduler, loans[0], "suppressed")
    assert await waiting_reasons(scheduler, loans) == {None}, "a reminder the guard stopped was no attempt"

    await voice_reminder(scheduler, loans[0], "sent")

    assert await claim(scheduler) == []
    assert await waiting_reasons(scheduler, loans) == {"daily_attempt_cap"}


async def test_a_voice_reminder_reported_twice_is_one_attempt(scheduler):
    loans = await phone_cases(scheduler, 2, borrower_id="B-twice")
    for _ in range(4):
        await voice_reminder(scheduler, loans[0], "sent", "failed")

    reminder_id = str(uuid.uuid4())
    for status in ("sent", "sent"):
        await scheduler.handled(await scheduler.bus.send("ReminderSent", ReminderSent(
            reminder_id=reminder_id, loan_id=loans[0], channel="voice", status=status, occurred_at=scheduler.clock.now(),
        )))

    assert len(await claim(scheduler)) == 1, "5 attempts: a sixth may still be made"


async def us_phone_cases(scheduler, count: int, borrower_id: str) -> list[str]:
    """Loans of one borrower in Chicago (region US), 16 days late: each queues an agent call."""
    loans = [new_loan_id() for _ in range(count)]
    for loan_id in loans:
        booking = booked(loan_id, START.date(), timezone="America/Chicago")
        borrower = booking.borrower.model_copy(update={"borrower_id": borrower_id, "region": "US"})
        await scheduler.handled(await scheduler.bus.send("LoanBooked", booking.model_copy(update={"borrower": borrower})))
    return await phone_cases_of_loans(scheduler, loans, borrower_id)


async def phone_cases_of_loans(scheduler, loans: list[str], borrower_id: str) -> list[str]:
    for loan_id in loans:
        event = overdue(loan_id, 16, "3000.00").model_copy(update={"borrower_id": borrower_id})
        await scheduler.handled(await scheduler.bus.send("LoanOverdue", event))
    await scheduler.settled()
    return loans


async def test_reports_of_other_channels_are_left_unread_and_the_voice_one_behind_them_counts(scheduler):
    [loan_id] = await phone_cases(scheduler, 1, borrower_id="B-unread")
    at = scheduler.clock.now()
    others = [
        await scheduler.bus.send("ReminderSent", ReminderSent(
            reminder_id=str(uuid.uuid4()), loan_id=loan_id, channel=channel, status="sent", occurred_at=at,
        ))
        for channel in ("sms", "push", "email")
    ]
    await voice_reminder(scheduler, loan_id, "sent", "delivered")

    read = await scheduler.fetch("SELECT event_id FROM scheduler.inbox WHERE event_id = ANY($1)", [e.id for e in others])
    assert read == [], "the reports before the voice one on the same partition were passed over, not applied"
    calls = await scheduler.fetch("SELECT connected_at FROM scheduler.voice_reminder_calls WHERE loan_id = $1", loan_id)
    assert [row["connected_at"] for row in calls] == [at]


async def test_a_us_borrower_is_called_until_20_59_local_time_not_at_21_00(scheduler):
    await widen_contact_window(scheduler)
    [loan_id] = await us_phone_cases(scheduler, 1, "B-us-evening")

    scheduler.clock.set(chicago(27, 21))
    assert await claim(scheduler) == []
    waiting = (await queued(scheduler))[loan_id]["waiting"]
    assert (waiting["reason"], datetime.fromisoformat(waiting["until"])) == ("contact_window", datetime(2026, 11, 28, 8, tzinfo=CHICAGO))

    scheduler.clock.set(chicago(27, 20, 59))
    assert [t["loan_id"] for t in await claim(scheduler)] == [loan_id]


async def test_seven_calls_in_seven_days_voice_reminders_included_stop_the_eighth(scheduler):
    scheduler.clock.set(chicago(27, 10))
    loans = await us_phone_cases(scheduler, 2, "B-us-week")
    for day in range(21, 27):
        await voice_reminder(scheduler, loans[0], "sent", at=chicago(day, 11))
    [task] = await claim(scheduler)
    await complete(scheduler, task, "no_answer")

    assert await claim(scheduler) == []
    [eighth] = [t for t in (await queued(scheduler)).values() if t["loan_id"] in loans]
    assert eighth["waiting"]["reason"] == "calls_in_7_days"
    assert datetime.fromisoformat(eighth["waiting"]["until"]) == datetime(2026, 11, 28, 11, tzinfo=CHICAGO)

    scheduler.clock.set(chicago(28, 11))
    assert [t["task_id"] for t in await claim(scheduler)] == [eighth["task_id"]]


async def test_after_a_conversation_with_a_us_borrower_no_call_for_seven_days(scheduler):
    scheduler.clock.set(chicago(27, 10))
    loans = await us_phone_cases(scheduler, 2, "B-us-talked")
    [task] = await claim(scheduler)
    await complete(scheduler, task, "contacted")

    scheduler.clock.set(chicago(27, 10) + timedelta(days=7, minutes=-1))
    assert await claim(scheduler) == []
    assert await waiting_reasons(scheduler, loans) == {"after_conversation"}

    scheduler.clock.set(chicago(27, 10) + timedelta(days=7))
    assert len(await claim(scheduler)) == 1
