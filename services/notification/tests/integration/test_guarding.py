"""The compliance guard in the running service: refusals are reported, deferred and later sent."""

from datetime import UTC, datetime, timedelta

from dunning_contracts import new_event
from dunning_contracts.events import OverdueCleared
from notification_testkit.events import loan_booked, loan_overdue, produce, reminder_requested, unique

# 22:30 in Shanghai.
SHANGHAI_LATE_EVENING = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
SHANGHAI_NEXT_MORNING = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)


async def book_overdue_loan(service) -> tuple[str, str]:
    loan_id, borrower_id = unique("loan"), unique("borrower")
    now = service.clock.now()
    await produce(service.bootstrap, loan_booked(loan_id, borrower_id, now), loan_overdue(loan_id, borrower_id, now))
    await service.loan_known(loan_id)
    return loan_id, borrower_id


async def request_sms(service, loan_id: str, borrower_id: str) -> str:
    request = reminder_requested(loan_id, borrower_id, service.clock.now())
    await produce(service.bootstrap, request)
    return request.data["reminder_id"]


async def test_a_reminder_at_night_is_reported_suppressed_and_sent_the_next_morning(notification):
    notification.clock.set(SHANGHAI_LATE_EVENING)
    loan_id, borrower_id = await book_overdue_loan(notification)
    reminder_id = await request_sms(notification, loan_id, borrower_id)

    [event] = await notification.events_when(reminder_id, lambda e: e, "the suppression to be reported")
    assert (event["status"], event["reason"]) == ("suppressed", "cn.quiet_hours")
    deferred = (await notification.reminders(loan_id))[0]
    assert deferred["status"] == "pending" and deferred["reason"] == "cn.quiet_hours"
    assert datetime.fromisoformat(deferred["next_attempt_at"]) == SHANGHAI_NEXT_MORNING
    assert notification.provider.state.find("sms", None, reminder_id) == []

    notification.clock.set(SHANGHAI_NEXT_MORNING - timedelta(seconds=1))
    notification.clock.set(SHANGHAI_NEXT_MORNING)
    reminder = await notification.reminder_when(loan_id, lambda r: r["status"] == "sent", "the morning send")
    assert [h["outcome"] for h in reminder["history"]] == ["suppressed", "sent"]
    assert len(notification.provider.state.find("sms", None, reminder_id)) == 1
    events = await notification.events_when(reminder_id, lambda e: len(e) == 2, "the send to be reported")
    assert [e["status"] for e in events] == ["suppressed", "sent"]


async def test_a_borrower_who_opted_out_of_texts_gets_none_and_the_refusal_is_reported(notification):
    loan_id, borrower_id = await book_overdue_loan(notification)
    response = await notification.api.put(
        f"/v1/borrowers/{borrower_id}/contact-preferences", json={"opted_out": ["sms"]}, headers=notification.auth
    )
    assert response.status_code == 200 and response.json()["opted_out"] == ["sms"]
    reminder_id = await request_sms(notification, loan_id, borrower_id)

    reminder = await notification.reminder_when(loan_id, lambda r: r["status"] == "suppressed", "the refusal")
    assert reminder["reason"] == "opt_out"
    [event] = await notification.events_when(reminder_id, lambda e: e, "the refusal to be reported")
    assert (event["status"], event["reason"]) == ("suppressed", "opt_out")
    assert notification.provider.state.find("sms", None, reminder_id) == []


async def test_a_hold_defers_a_reminder_until_it_is_lifted(notification):
    loan_id, borrower_id = await book_overdue_loan(notification)
    path = f"/v1/borrowers/{borrower_id}/contact-preferences"
    hold_until = (notification.clock.now() + timedelta(days=1)).isoformat()
    await notification.api.put(path, json={"hold_until": hold_until}, headers=notification.auth)
    reminder_id = await request_sms(notification, loan_id, borrower_id)
    await notification.reminder_when(loan_id, lambda r: r["reason"] == "hold", "the hold to stop the reminder")

    await notification.api.put(path, json={}, headers=notification.auth)
    await notification.reminder_when(loan_id, lambda r: r["status"] == "sent", "the send after the hold")
    assert len(notification.provider.state.find("sms", None, reminder_id)) == 1


async def test_a_loan_cleared_before_its_reminder_goes_out_is_not_reminded(notification):
    loan_id, borrower_id = await book_overdue_loan(notification)
    notification.clock.set(SHANGHAI_LATE_EVENING)
    reminder_id = await request_sms(notification, loan_id, borrower_id)
    await notification.reminder_when(loan_id, lambda r: r["reason"] == "cn.quiet_hours", "the night deferral")

    cleared = OverdueCleared(loan_id=loan_id, reason="paid", cleared_at=notification.clock.now())
    await produce(notification.bootstrap, new_event("OverdueCleared", "urn:dunning:ingestion", cleared, loan_id))
    await notification.loan_cleared(loan_id)
    notification.clock.set(SHANGHAI_NEXT_MORNING)

    reminder = await notification.reminder_when(loan_id, lambda r: r["status"] == "suppressed", "the final refusal")
    assert reminder["reason"] == "loan_cleared"
    assert notification.provider.state.find("sms", None, reminder_id) == []


async def test_a_borrower_who_refused_texts_but_prefers_email_is_reminded_by_email(notification):
    loan_id, borrower_id = await book_overdue_loan(notification)
    body = {"opted_out": ["sms"], "preferred_channel": "email"}
    await notification.api.put(f"/v1/borrowers/{borrower_id}/contact-preferences", json=body, headers=notification.auth)
    reminder_id = await request_sms(notification, loan_id, borrower_id)

    reminder = await notification.reminder_when(loan_id, lambda r: r["status"] == "sent", "the e-mail instead")
    assert reminder["channel"] == "email" and reminder["to"] == "z***@example.com"
    assert notification.provider.state.find("sms", None, reminder_id) == []
    assert len(notification.provider.state.find("email", None, reminder_id)) == 1
    [event] = await notification.events_when(reminder_id, lambda e: e, "ReminderSent")
    assert (event["status"], event["channel"]) == ("sent", "email")
