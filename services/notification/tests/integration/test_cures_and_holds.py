"""A cure stops the reminders of the cured case only; a hold from the scheduler pauses a loan's reminders
until it is released; a delivery receipt is counted in the metrics."""

from datetime import UTC, datetime, timedelta

from dunning_contracts import new_event
from dunning_contracts.events import HoldPlaced, HoldReleased, OverdueCleared
from dunning_platform.testing import async_wait_for
from notification_testkit.events import (
    RECEIPT_SECRET,
    loan_booked,
    loan_overdue,
    produce,
    reminder_requested,
    unique,
)

SCHEDULER = "urn:dunning:dunning-scheduler"
# 22:30 and 08:00 in Shanghai.
SHANGHAI_LATE_EVENING = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
SHANGHAI_NEXT_MORNING = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)


async def book_overdue_loan(service) -> tuple[str, str]:
    loan_id, borrower_id = unique("loan"), unique("borrower")
    now = service.clock.now()
    await produce(service.bootstrap, loan_booked(loan_id, borrower_id, now), loan_overdue(loan_id, borrower_id, now))
    await service.loan_known(loan_id)
    return loan_id, borrower_id


async def request(service, loan_id: str, borrower_id: str, **overrides) -> str:
    event = reminder_requested(loan_id, borrower_id, service.clock.now(), **overrides)
    await produce(service.bootstrap, event)
    return event.data["reminder_id"]


async def cure(service, loan_id: str) -> None:
    cleared = OverdueCleared(loan_id=loan_id, reason="paid", cleared_at=service.clock.now())
    await produce(service.bootstrap, new_event("OverdueCleared", "urn:dunning:ingestion", cleared, loan_id))
    await service.loan_cleared(loan_id)


def status_of(reminder_id: str, wanted: str):
    return lambda items: any(r["reminder_id"] == reminder_id and r["status"] == wanted for r in items)


async def test_after_a_cure_the_cured_case_stays_quiet_but_the_next_installments_pre_due_reminder_is_sent(notification):
    notification.clock.set(SHANGHAI_LATE_EVENING)
    loan_id, borrower_id = await book_overdue_loan(notification)
    case_id = unique("case")
    waiting = await request(notification, loan_id, borrower_id, case_id=case_id)
    await notification.reminder_when(loan_id, lambda r: r["reason"] == "cn.quiet_hours", "the night deferral")
    await cure(notification, loan_id)

    notification.clock.set(SHANGHAI_NEXT_MORNING)
    late = await request(notification, loan_id, borrower_id, case_id=case_id)
    pre_due = await request(
        notification, loan_id, borrower_id, case_id=f"pre-due:{loan_id}", template="pre_due_reminder", stage="reminder"
    )

    items = await notification.all_reminders_when(loan_id, status_of(pre_due, "sent"), "the pre-due reminder to go")
    items = await notification.all_reminders_when(
        loan_id, lambda found: all(r["status"] != "pending" for r in found), "every reminder to be decided"
    )
    outcome = {r["reminder_id"]: (r["status"], r["reason"]) for r in items}
    assert outcome[waiting] == ("suppressed", "loan_cleared")
    assert outcome[late] == ("suppressed", "loan_cleared"), "a late reminder of the cured case stays quiet"
    assert outcome[pre_due] == ("sent", None)
    assert len(notification.provider.state.find("sms", None, pre_due)) == 1
    assert notification.provider.state.find(None, None, waiting) == notification.provider.state.find(None, None, late) == []


async def test_a_newer_overdue_episode_lifts_the_cure(notification):
    loan_id, borrower_id = await book_overdue_loan(notification)
    await cure(notification, loan_id)
    notification.clock.advance(days=3)
    await produce(notification.bootstrap, loan_overdue(loan_id, borrower_id, notification.clock.now()))
    await notification.loan_known(loan_id)

    reminder_id = await request(notification, loan_id, borrower_id)
    items = await notification.all_reminders_when(loan_id, status_of(reminder_id, "sent"), "the new episode's reminder")
    assert len(notification.provider.state.find("sms", None, reminder_id)) == 1 and len(items) == 1


async def test_of_overdue_figures_read_together_the_latest_stands_whatever_their_order_on_the_bus(notification):
    loan_id, borrower_id = await book_overdue_loan(notification)
    now = notification.clock.now()
    newest, older, stale = (loan_overdue(loan_id, borrower_id, now + timedelta(days=d)) for d in (2, 1, -1))
    await produce(notification.bootstrap, newest, older, stale)

    ids = [event.id for event in (newest, older, stale)]
    query = "SELECT count(*) = 3 FROM notification.inbox WHERE event_id = ANY($1::text[])"
    await async_wait_for(lambda: notification._fetch(query, ids), what="the three figures to be read")
    as_of = await notification._fetch("SELECT figures_as_of FROM notification.loans WHERE loan_id = $1", loan_id)
    assert as_of == now + timedelta(days=2)


async def place_hold(service, loan_id: str, hold_id: str, until: datetime) -> None:
    data = HoldPlaced(case_id=unique("case"), loan_id=loan_id, occurred_at=service.clock.now(), hold_id=hold_id,
                      reason="dispute", expires_at=until)
    await produce(service.bootstrap, new_event("HoldPlaced", SCHEDULER, data, loan_id))
    query = "SELECT 1 FROM notification.loan_holds WHERE hold_id = $1"
    await async_wait_for(lambda: service._fetch(query, hold_id), what="the hold to reach notification")


async def test_a_reminder_waits_out_a_dispute_hold_and_goes_when_the_hold_is_released(notification):
    loan_id, borrower_id = await book_overdue_loan(notification)
    hold_id, until = unique("hold"), notification.clock.now() + timedelta(days=1)
    await place_hold(notification, loan_id, hold_id, until)
    reminder_id = await request(notification, loan_id, borrower_id)

    held = await notification.reminder_when(loan_id, lambda r: r["reason"] == "case_hold", "the hold to stop it")
    assert held["status"] == "pending" and datetime.fromisoformat(held["next_attempt_at"]) == until
    [event] = await notification.events_when(reminder_id, lambda e: e, "the suppression to be reported")
    assert (event["status"], event["reason"]) == ("suppressed", "case_hold")
    assert notification.provider.state.find(None, None, reminder_id) == []

    released = HoldReleased(case_id=unique("case"), loan_id=loan_id, occurred_at=notification.clock.now(), hold_id=hold_id,
                            reason="dispute", released_because="resolved")
    await produce(notification.bootstrap, new_event("HoldReleased", SCHEDULER, released, loan_id))
    await notification.reminder_when(loan_id, lambda r: r["status"] == "sent", "the send after the release")
    assert len(notification.provider.state.find("sms", None, reminder_id)) == 1


def counted(metrics: str, channel: str, status: str) -> float:
    prefix = f'notification_reminders_total{{channel="{channel}",status="{status}"}} '
    lines = [line for line in metrics.splitlines() if line.startswith(prefix)]
    return float(lines[0].removeprefix(prefix)) if lines else 0.0


async def test_a_delivery_receipt_is_counted_among_reminder_outcomes(start_notification):
    async with start_notification(over_http=True, receipt_secret=RECEIPT_SECRET) as service:
        before = counted((await service.api.get("/metrics")).text, "sms", "delivered")
        loan_id, borrower_id = await book_overdue_loan(service)
        await request(service, loan_id, borrower_id)
        await service.reminder_when(loan_id, lambda r: r["status"] == "delivered", "the delivery receipt")

        after = counted((await service.api.get("/metrics")).text, "sms", "delivered")
    assert after == before + 1
