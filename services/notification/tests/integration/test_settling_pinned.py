"""A reminder that may have reached its provider settles with that provider: the attempt is on record before
the request leaves, a cure meanwhile does not turn it into `suppressed` if the provider has it, one the guard
would now refuse is asked about at its provider rather than sent again, and a provider that never answers
ends it `failed` a bounded time after its expiry."""

from datetime import UTC, datetime, timedelta

import asyncpg

from dunning_contracts import new_event
from dunning_contracts.events import OverdueCleared
from dunning_platform.devstack.postgres import asyncpg_dsn
from dunning_platform.devstack.provider import Fault
from dunning_platform.testing import async_wait_for
from notification_testkit.events import loan_booked, loan_overdue, produce, reminder_requested, unique


async def booked(service) -> tuple[str, str]:
    loan_id, borrower_id = unique("loan"), unique("borrower")
    now = service.clock.now()
    await produce(service.bootstrap, loan_booked(loan_id, borrower_id, now), loan_overdue(loan_id, borrower_id, now))
    await service.loan_known(loan_id)
    return loan_id, borrower_id


async def requested(service, loan_id: str, borrower_id: str, **overrides) -> str:
    event = reminder_requested(loan_id, borrower_id, service.clock.now(), **overrides)
    await produce(service.bootstrap, event)
    return event.data["reminder_id"]


async def cure(service, loan_id: str) -> None:
    cleared = OverdueCleared(loan_id=loan_id, reason="paid", cleared_at=service.clock.now())
    await produce(service.bootstrap, new_event("OverdueCleared", "urn:dunning:ingestion", cleared, loan_id))
    await service.loan_cleared(loan_id)


async def query(service, sql: str, *args):
    connection = await asyncpg.connect(asyncpg_dsn(service.database_url))
    try:
        return await connection.fetchrow(sql, *args)
    finally:
        await connection.close()


async def killed_after_the_provider_call(service, reminder_id: str) -> dict:
    """What a dispatcher killed between the provider's answer and its record leaves behind: the provider
    holds the message, the reminder is pinned to it, pending, its lease run out."""
    record, _ = service.provider.state.accept("sms", reminder_id, "13812345678", {"body": "您的借款已逾期"})
    await killed_after_the_pin(service, reminder_id)
    return record


async def killed_after_the_pin(service, reminder_id: str) -> None:
    """What a dispatcher killed after committing the pin, before its request left, leaves behind."""
    await query(
        service,
        "UPDATE notification.reminders SET pinned_provider = 'devprovider', lease_until = $2 WHERE reminder_id = $1",
        reminder_id,
        service.clock.now() - timedelta(minutes=1),
    )


async def opt_out_of_texts(service, borrower_id: str) -> None:
    path = f"/v1/borrowers/{borrower_id}/contact-preferences"
    response = await service.api.put(path, json={"opted_out": ["sms"]}, headers=service.auth)
    assert response.status_code == 200


async def test_a_reminder_the_provider_got_before_a_kill_is_recorded_sent_even_though_the_loan_was_cured_since(notification):
    loan_id, borrower_id = await booked(notification)
    later = notification.clock.now() + timedelta(hours=1)
    reminder_id = await requested(notification, loan_id, borrower_id, not_before=later)
    await notification.reminder_when(loan_id, lambda r: r["status"] == "pending", "the reminder to be stored")
    record = await killed_after_the_provider_call(notification, reminder_id)
    await cure(notification, loan_id)

    notification.clock.set(later)
    reminder = await notification.reminder_when(loan_id, lambda r: r["status"] != "pending", "the settled reminder")

    assert (reminder["status"], reminder["provider_message_id"]) == ("sent", record["id"])
    assert len(notification.provider.state.find(None, None, reminder_id)) == 1
    assert record["calls"] == 1, "asked about at the provider, not sent again"
    events = await notification.events_when(reminder_id, lambda found: found, "the ReminderSent event")
    assert [event["status"] for event in events] == ["sent"], "never reported suppressed: the borrower has it"


async def test_a_borrower_who_opted_out_after_a_pin_the_provider_never_got_is_not_contacted(notification):
    loan_id, borrower_id = await booked(notification)
    later = notification.clock.now() + timedelta(hours=1)
    reminder_id = await requested(notification, loan_id, borrower_id, not_before=later)
    await notification.reminder_when(loan_id, lambda r: r["status"] == "pending", "the reminder to be stored")
    await killed_after_the_pin(notification, reminder_id)
    await opt_out_of_texts(notification, borrower_id)

    notification.clock.set(later)
    reminder = await notification.reminder_when(loan_id, lambda r: r["status"] != "pending", "the settled reminder")

    assert (reminder["status"], reminder["reason"]) == ("suppressed", "opt_out")
    assert notification.provider.state.find(None, None, reminder_id) == []
    row = await query(notification, "SELECT pinned_provider FROM notification.reminders WHERE reminder_id = $1", reminder_id)
    assert row["pinned_provider"] is None, "the provider never had it: the pin is lifted"
    events = await notification.events_when(reminder_id, lambda found: found, "the ReminderSent event")
    assert [(event["status"], event["reason"]) for event in events] == [("suppressed", "opt_out")]


async def test_a_pinned_reminder_the_guard_would_refuse_stays_pending_while_its_provider_does_not_answer_the_lookup(
    notification,
):
    loan_id, borrower_id = await booked(notification)
    later = notification.clock.now() + timedelta(hours=1)
    reminder_id = await requested(notification, loan_id, borrower_id, not_before=later)
    await notification.reminder_when(loan_id, lambda r: r["status"] == "pending", "the reminder to be stored")
    await killed_after_the_pin(notification, reminder_id)
    await opt_out_of_texts(notification, borrower_id)
    notification.provider.state.faults["sms"] = [Fault("timeout", 100, delay_s=2.0)]

    notification.clock.set(later)
    reminder = await notification.reminder_when(loan_id, lambda r: r["attempts"] >= 1, "the unanswered lookup")

    assert (reminder["status"], reminder["reason"]) == ("pending", "provider lookup unanswered: ReadTimeout")
    assert notification.provider.state.find(None, None, reminder_id) == []
    row = await query(notification, "SELECT pinned_provider FROM notification.reminders WHERE reminder_id = $1", reminder_id)
    assert row["pinned_provider"] == "devprovider", "still asked again later, at that provider alone"


async def test_a_pinned_reminder_whose_request_may_never_have_left_is_re_sent_only_inside_the_contact_window(notification):
    loan_id, borrower_id = await booked(notification)
    night = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
    reminder_id = await requested(notification, loan_id, borrower_id, not_before=night, expires_at=night + timedelta(days=2))
    await notification.reminder_when(loan_id, lambda r: r["status"] == "pending", "the reminder to be stored")
    await query(
        notification,
        "UPDATE notification.reminders SET pinned_provider = 'devprovider', lease_until = $2 WHERE reminder_id = $1",
        reminder_id,
        night - timedelta(minutes=1),
    )

    notification.clock.set(night)
    waiting = await notification.reminder_when(loan_id, lambda r: r["reason"] == "cn.quiet_hours", "the wait for 08:00")
    assert waiting["status"] == "pending" and not notification.provider.state.find(None, None, reminder_id)

    notification.clock.set(datetime(2026, 11, 28, 0, 0, tzinfo=UTC))  # 08:00 in Shanghai
    reminder = await notification.reminder_when(loan_id, lambda r: r["status"] != "pending", "the settled reminder")
    assert reminder["status"] == "sent" and len(notification.provider.state.find(None, None, reminder_id)) == 1


async def test_the_attempt_is_on_record_while_the_provider_still_holds_the_request(start_notification, provider):
    provider.state.faults["sms"] = [Fault("timeout", 1, delay_s=3.0)]
    async with start_notification(provider_timeout_s=10.0) as service:
        loan_id, borrower_id = await booked(service)
        reminder_id = await requested(service, loan_id, borrower_id)

        async def pinned_while_unanswered():
            row = await query(service, "SELECT * FROM notification.reminders WHERE reminder_id = $1", reminder_id)
            return row if row and row["pinned_provider"] else None

        row = await async_wait_for(pinned_while_unanswered, timeout=30, what="the attempt to be on record")
        assert (row["status"], row["attempts"], row["pinned_provider"]) == ("pending", 0, "devprovider")
        assert not provider.state.faults["sms"], "the request is at the provider, its answer not yet back"

        answered = await service.reminder_when(loan_id, lambda r: r["attempts"] == 1, "the provider's late 504")
        assert answered["status"] == "pending" and "504" in answered["reason"]


async def test_a_pinned_reminder_its_provider_never_answers_ends_failed_past_the_grace_after_its_expiry(start_notification, provider):
    provider.state.faults["sms"] = [Fault("timeout", 100, delay_s=2.0)]
    async with start_notification(provider_timeout_s=0.3, pinned_answer_grace_s=600) as service:
        before = unanswered((await service.api.get("/metrics")).text)
        loan_id, borrower_id = await booked(service)
        expires_at = service.clock.now() + timedelta(minutes=5)
        reminder_id = await requested(service, loan_id, borrower_id, expires_at=expires_at)
        first = await service.reminder_when(loan_id, lambda r: r["attempts"] == 1, "the unanswered first attempt")
        assert first["status"] == "pending"

        service.clock.set(expires_at + timedelta(seconds=300))
        still = await service.reminder_when(loan_id, lambda r: r["attempts"] == 2, "an attempt within the grace")
        assert still["status"] == "pending", "within the grace its provider is still asked"

        service.clock.set(expires_at + timedelta(seconds=900))
        reminder = await service.reminder_when(loan_id, lambda r: r["status"] != "pending", "the end of the grace")
        after = unanswered((await service.api.get("/metrics")).text)
        events = await service.events_when(reminder_id, lambda found: found, "the ReminderSent event")

    assert (reminder["status"], reminder["reason"]) == ("failed", "provider_unanswered")
    assert [(e["status"], e["reason"]) for e in events] == [("failed", "provider_unanswered")]
    assert after == before + 1


def unanswered(metrics: str) -> float:
    prefix = 'notification_provider_unanswered_total{channel="sms"} '
    lines = [line for line in metrics.splitlines() if line.startswith(prefix)]
    return float(lines[0].removeprefix(prefix)) if lines else 0.0
