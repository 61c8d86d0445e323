"""A requested reminder goes through a real provider call, once, and is reported on the bus."""

import base64

import asyncpg

from dunning_platform.devstack.postgres import asyncpg_dsn
from dunning_platform.devstack.provider import Fault
from notification_testkit.events import loan_booked, loan_overdue, produce, reminder_requested, unique


def sent(item: dict) -> bool:
    return item["status"] == "sent"


async def book_overdue_loan(service, **borrower) -> tuple[str, str]:
    loan_id, borrower_id = unique("loan"), unique("borrower")
    now = service.clock.now()
    await produce(service.bootstrap, loan_booked(loan_id, borrower_id, now, **borrower), loan_overdue(loan_id, borrower_id, now))
    # Three topics carry no order between them: the figures are awaited so the reminder can quote them.
    await service.loan_known(loan_id)
    return loan_id, borrower_id


async def test_a_requested_sms_is_sent_through_the_provider_and_reported(notification):
    loan_id, borrower_id = await book_overdue_loan(notification)
    request = reminder_requested(loan_id, borrower_id, notification.clock.now())
    reminder_id = request.data["reminder_id"]
    await produce(notification.bootstrap, request)

    reminder = await notification.reminder_when(loan_id, sent, "the reminder to be sent")
    [record] = notification.provider.state.find("sms", None, reminder_id)
    assert record["to"] == "13812345678"
    assert "1,234.50元" in record["body"] and "逾期12天" in record["body"]
    assert reminder["provider"] == "devprovider" and reminder["provider_message_id"] == record["id"]
    assert reminder["to"] == "138****5678"
    assert record["segments"] == 2, "a Chinese reminder of 71 to 134 characters takes two SMS parts"

    [event] = await notification.events_when(reminder_id, lambda e: e, "ReminderSent on the bus")
    assert event["status"] == "sent" and event["channel"] == "sms"
    assert event["provider"] == "devprovider" and event["provider_message_id"] == record["id"]


async def test_borrower_contact_data_rests_encrypted(notification):
    loan_id, borrower_id = await book_overdue_loan(notification, phone="13900001111", email="li.si@example.com")
    await produce(notification.bootstrap, reminder_requested(loan_id, borrower_id, notification.clock.now()))
    await notification.reminder_when(loan_id, sent, "the reminder to be sent")

    connection = await asyncpg.connect(asyncpg_dsn(notification.database_url))
    try:
        row = await connection.fetchrow("SELECT * FROM notification.borrowers WHERE borrower_id = $1", borrower_id)
    finally:
        await connection.close()
    stored = b"".join(bytes(v) for v in row.values() if isinstance(v, bytes))
    assert b"13900001111" not in stored and b"li.si@example.com" not in stored and "张三".encode() not in stored


async def test_the_same_reminder_requested_twice_is_sent_once(notification):
    loan_id, borrower_id = await book_overdue_loan(notification)
    request = reminder_requested(loan_id, borrower_id, notification.clock.now())
    reminder_id = request.data["reminder_id"]
    # The same event delivered twice, and the same reminder asked for again under a new event id.
    again = request.model_copy(update={"id": unique("event")})
    await produce(notification.bootstrap, request, request, again)

    await notification.reminder_when(loan_id, sent, "the reminder to be sent")
    await produce(notification.bootstrap, request)
    notification.clock.advance(minutes=5)

    [record] = notification.provider.state.find("sms", None, reminder_id)
    assert record["calls"] == 1
    events = await notification.events_when(reminder_id, lambda e: e, "ReminderSent on the bus")
    assert [e["status"] for e in events] == ["sent"]
    assert len(await notification.reminders(loan_id)) == 1


async def test_a_provider_error_is_retried_and_the_borrower_gets_one_message(notification):
    loan_id, borrower_id = await book_overdue_loan(notification)
    notification.provider.state.faults["sms"] = [Fault("error", 1)]
    request = reminder_requested(loan_id, borrower_id, notification.clock.now())
    reminder_id = request.data["reminder_id"]
    await produce(notification.bootstrap, request)

    failed_once = await notification.reminder_when(loan_id, lambda r: r["attempts"] == 1, "the first attempt")
    assert failed_once["status"] == "pending" and failed_once["reason"] == "provider answered 500"
    notification.clock.advance(minutes=1)

    reminder = await notification.reminder_when(loan_id, sent, "the retry to be sent")
    assert reminder["attempts"] == 2
    assert [h["outcome"] for h in reminder["history"]] == ["failed", "sent"]
    assert len(notification.provider.state.find("sms", None, reminder_id)) == 1
    events = await notification.events_when(reminder_id, lambda e: e, "ReminderSent on the bus")
    assert [e["status"] for e in events] == ["sent"]


async def test_an_answer_lost_after_the_provider_accepted_does_not_make_a_second_message(notification):
    loan_id, borrower_id = await book_overdue_loan(notification)
    notification.provider.state.faults["sms"] = [Fault("accept_then_error", 1)]
    request = reminder_requested(loan_id, borrower_id, notification.clock.now())
    await produce(notification.bootstrap, request)

    await notification.reminder_when(loan_id, lambda r: r["attempts"] == 1, "the first attempt")
    notification.clock.advance(minutes=1)
    await notification.reminder_when(loan_id, sent, "the retry to be sent")

    [record] = notification.provider.state.find("sms", None, request.data["reminder_id"])
    assert record["calls"] == 2


async def test_an_email_reminder_goes_through_a_real_smtp_exchange(notification):
    loan_id, borrower_id = await book_overdue_loan(notification, locale="en", email="li.si@example.com")
    request = reminder_requested(loan_id, borrower_id, notification.clock.now(), channel="email", locale="en")
    reminder_id = request.data["reminder_id"]
    await produce(notification.bootstrap, request)

    reminder = await notification.reminder_when(loan_id, sent, "the e-mail to be sent")
    [mail] = notification.provider.state.find("email", None, reminder_id)
    assert mail["to"] == "li.si@example.com"
    assert mail["subject"] == f"Payment reminder from acme-credit (loan ending {loan_id[-4:]})"
    assert "12 days past due" in mail["body"] and "CNY 1,234.50" in mail["body"]
    assert reminder["provider"] == "smtp" and reminder["provider_message_id"] == f"{reminder_id}@dunning.notification"
    assert reminder["to"] == "l***@example.com"


async def test_a_provider_that_keeps_failing_ends_in_a_failed_reminder_with_the_reason(notification):
    loan_id, borrower_id = await book_overdue_loan(notification)
    notification.provider.state.faults["sms"] = [Fault("error", 100)]
    request = reminder_requested(loan_id, borrower_id, notification.clock.now())
    await produce(notification.bootstrap, request)

    for attempt in range(1, 6):
        await notification.reminder_when(loan_id, lambda r, n=attempt: r["attempts"] == n, f"attempt {attempt}")
        notification.clock.advance(minutes=10)
    reminder = await notification.reminder_when(loan_id, lambda r: r["status"] == "failed", "the reminder to fail")
    assert reminder["reason"] == "provider answered 500" and reminder["attempts"] == 5
    events = await notification.events_when(request.data["reminder_id"], lambda e: e, "ReminderSent on the bus")
    assert [(e["status"], e["reason"]) for e in events] == [("failed", "provider answered 500")]
    assert notification.provider.state.find("sms", None, request.data["reminder_id"]) == []


async def test_a_new_reminder_wakes_the_dispatcher_without_waiting_for_its_next_round(start_notification):
    async with start_notification(dispatch_interval_s=120) as service:
        loan_id, borrower_id = await book_overdue_loan(service)
        await produce(service.bootstrap, reminder_requested(loan_id, borrower_id, service.clock.now()))
        await service.reminder_when(loan_id, sent, "the reminder to be sent long before the next round", timeout=20)


async def test_a_letter_goes_to_the_print_and_post_provider_as_a_pdf(notification):
    loan_id, borrower_id = await book_overdue_loan(notification, locale="en", name="Li Wei")
    request = reminder_requested(loan_id, borrower_id, notification.clock.now(), channel="letter", stage="field_visit")
    await produce(notification.bootstrap, request)

    await notification.reminder_when(loan_id, sent, "the letter to be posted")
    [letter] = notification.provider.state.find("letter", None, request.data["reminder_id"])
    assert letter["to"] == "Li Wei" and letter["title"] == "Payment reminder"
    assert base64.b64decode(letter["pdf_base64"]).startswith(b"%PDF")
    assert "12 days past due" in letter["body"]


async def test_a_connection_dropped_mid_answer_is_retried_and_the_borrower_gets_one_message(notification):
    loan_id, borrower_id = await book_overdue_loan(notification)
    notification.provider.state.faults["sms"] = [Fault("drop", 1)]
    request = reminder_requested(loan_id, borrower_id, notification.clock.now())
    await produce(notification.bootstrap, request)

    first = await notification.reminder_when(loan_id, lambda r: r["attempts"] == 1, "the dropped attempt")
    assert first["status"] == "pending" and first["reason"].startswith("provider connection lost")
    notification.clock.advance(minutes=1)

    await notification.reminder_when(loan_id, sent, "the retry to be sent")
    [record] = notification.provider.state.find("sms", None, request.data["reminder_id"])
    assert record["calls"] == 2
