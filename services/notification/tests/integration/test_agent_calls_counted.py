"""Agents' calls reported by the scheduler (ContactAttempted) count with the voice reminders against the
borrower's caps: the reminder that would pass a cap is refused and reported with the rule as reason."""

from datetime import UTC, datetime, timedelta

import pytest

from dunning_contracts import new_event
from dunning_contracts.events import ContactAttempted
from dunning_platform.testing import async_wait_for
from notification_testkit.events import RECEIPT_SECRET, SCHEDULER, loan_booked, loan_overdue, produce, reminder_requested, unique

CHICAGO_NOON = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


@pytest.fixture
async def answering(start_notification):
    """A service whose provider sends delivery receipts: a voice reminder delivered is an answered call."""
    async with start_notification(over_http=True, receipt_secret=RECEIPT_SECRET) as running:
        yield running


async def booked(service, **borrower) -> tuple[str, str]:
    loan_id, borrower_id = unique("loan"), unique("borrower")
    now = service.clock.now()
    await produce(service.bootstrap, loan_booked(loan_id, borrower_id, now, **borrower), loan_overdue(loan_id, borrower_id, now))
    await service.loan_known(loan_id)
    return loan_id, borrower_id


async def agent_calls(service, loan_id: str, borrower_id: str | None, *connected: bool) -> None:
    """The scheduler's reports of an agent's calls to the borrower, one per completed task."""
    now = service.clock.now()
    events = [
        new_event("ContactAttempted", SCHEDULER, ContactAttempted(
            case_id=unique("case"), loan_id=loan_id, occurred_at=now, task_id=unique("task"), borrower_id=borrower_id,
            channel="phone", connected=answered, outcome="contacted" if answered else "no_answer",
        ), loan_id, now)
        for answered in connected
    ]
    await produce(service.bootstrap, *events)
    query = "SELECT count(*) = $2 FROM notification.agent_contacts WHERE task_id = ANY($1)"
    tasks = [e.data["task_id"] for e in events]
    await async_wait_for(lambda: service._fetch(query, tasks, len(tasks)), what="the agents' calls to be recorded")


async def voice(service, loan_id: str, borrower_id: str) -> str:
    event = reminder_requested(loan_id, borrower_id, service.clock.now(), channel="voice")
    await produce(service.bootstrap, event)
    return event.data["reminder_id"]


async def reported(service, reminder_id: str, status: str) -> dict:
    events = await service.events_when(reminder_id, lambda e: any(x["status"] == status for x in e), f"a {status} report")
    return next(e for e in events if e["status"] == status)


async def test_two_agent_conversations_and_an_answered_voice_reminder_stop_the_next_voice_reminder(answering):
    loan_id, borrower_id = await booked(answering)
    await agent_calls(answering, loan_id, borrower_id, True, True)
    third = await voice(answering, loan_id, borrower_id)
    await reported(answering, third, "delivered")

    fourth = await voice(answering, loan_id, borrower_id)

    event = await reported(answering, fourth, "suppressed")
    assert event["reason"] == "cn.daily_call_cap"
    assert len(answering.provider.state.find("voice", None, fourth)) == 0


async def test_five_unanswered_agent_calls_and_a_voice_reminder_stop_the_seventh_phone_attempt(notification):
    loan_id, borrower_id = await booked(notification)
    await agent_calls(notification, loan_id, borrower_id, *[False] * 5)
    sixth = await voice(notification, loan_id, borrower_id)
    await reported(notification, sixth, "sent")

    seventh = await voice(notification, loan_id, borrower_id)

    assert (await reported(notification, seventh, "suppressed"))["reason"] == "cn.daily_attempt_cap"


async def test_an_agents_call_without_a_borrower_id_is_counted_for_the_loans_borrower(notification):
    loan_id, borrower_id = await booked(notification)
    await agent_calls(notification, loan_id, None, *[False] * 6)

    refused = await voice(notification, loan_id, borrower_id)

    assert (await reported(notification, refused, "suppressed"))["reason"] == "cn.daily_attempt_cap"


async def test_a_voice_reminder_within_seven_days_of_an_agents_conversation_with_a_us_borrower_is_refused(notification):
    notification.clock.set(CHICAGO_NOON)
    loan_id, borrower_id = await booked(notification, timezone="America/Chicago", region="US", locale="en")
    await agent_calls(notification, loan_id, borrower_id, True)

    notification.clock.set(CHICAGO_NOON + timedelta(days=1))
    refused = await voice(notification, loan_id, borrower_id)

    assert (await reported(notification, refused, "suppressed"))["reason"] == "us.after_conversation"
