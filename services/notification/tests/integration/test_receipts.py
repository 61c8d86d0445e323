"""Signed delivery receipts turn `sent` into `delivered` or `failed`; forged ones are refused."""

import json
import time

import pytest

from dunning_notification.adapters.signatures import sign
from dunning_platform.devstack.provider import Fault
from notification_testkit.events import RECEIPT_SECRET, loan_booked, loan_overdue, produce, reminder_requested, unique


@pytest.fixture
async def service(start_notification):
    async with start_notification(over_http=True, receipt_secret=RECEIPT_SECRET) as running:
        yield running


async def booked(service) -> tuple[str, str]:
    loan_id, borrower_id = unique("loan"), unique("borrower")
    now = service.clock.now()
    await produce(service.bootstrap, loan_booked(loan_id, borrower_id, now), loan_overdue(loan_id, borrower_id, now))
    await service.loan_known(loan_id)
    return loan_id, borrower_id


async def request(service, loan_id: str, borrower_id: str, channel: str = "sms") -> str:
    event = reminder_requested(loan_id, borrower_id, service.clock.now(), channel=channel)
    await produce(service.bootstrap, event)
    return event.data["reminder_id"]


async def test_a_delivery_receipt_marks_the_reminder_delivered_and_is_reported(service):
    loan_id, borrower_id = await booked(service)
    reminder_id = await request(service, loan_id, borrower_id)

    reminder = await service.reminder_when(loan_id, lambda r: r["status"] == "delivered", "the delivery receipt")
    assert [h["outcome"] for h in reminder["history"]] == ["sent", "delivered"]
    events = await service.events_when(reminder_id, lambda e: len(e) == 2, "sent and delivered on the bus")
    assert [e["status"] for e in events] == ["sent", "delivered"]
    assert events[1]["provider_message_id"] == events[0]["provider_message_id"]
    # The dev provider dates its receipts by the wall clock, hours past the service's fixed one: a receipt
    # from the service's future is dated at its arrival.
    assert events[1]["occurred_at"] == events[0]["occurred_at"]


async def test_a_message_the_handset_never_got_ends_failed_with_the_providers_reason(service):
    loan_id, borrower_id = await booked(service)
    service.provider.state.faults["sms"] = [Fault("undelivered", 1)]
    reminder_id = await request(service, loan_id, borrower_id)

    reminder = await service.reminder_when(loan_id, lambda r: r["status"] == "failed", "the failure receipt")
    assert reminder["reason"] == "handset unreachable"
    events = await service.events_when(reminder_id, lambda e: len(e) == 2, "sent and failed on the bus")
    assert [(e["status"], e["reason"]) for e in events] == [("sent", None), ("failed", "handset unreachable")]


async def test_receipts_without_a_valid_signature_are_refused(service):
    body = json.dumps({"id": "sms-1", "status": "delivered"}).encode()
    unsigned = await service.api.post("/webhooks/receipts/devprovider", content=body)
    forged = await service.api.post(
        "/webhooks/receipts/devprovider", content=body, headers={"X-Dunning-Signature": sign("guess", int(time.time()), body)}
    )
    stale = await service.api.post(
        "/webhooks/receipts/devprovider",
        content=body,
        headers={"X-Dunning-Signature": sign(RECEIPT_SECRET, int(time.time()) - 3600, body)},
    )
    assert (unsigned.status_code, forged.status_code, stale.status_code) == (401, 401, 401)


async def test_a_repeated_receipt_changes_nothing(service):
    loan_id, borrower_id = await booked(service)
    reminder_id = await request(service, loan_id, borrower_id)
    reminder = await service.reminder_when(loan_id, lambda r: r["status"] == "delivered", "the delivery receipt")

    body = json.dumps({"id": reminder["provider_message_id"], "reference": reminder_id, "status": "failed"}).encode()
    headers = {"X-Dunning-Signature": sign(RECEIPT_SECRET, int(time.time()), body)}
    answer = await service.api.post("/webhooks/receipts/devprovider", content=body, headers=headers)

    assert answer.status_code == 204
    assert (await service.reminders(loan_id))[0]["status"] == "delivered"
    events = await service.events_when(reminder_id, lambda e: len(e) >= 2, "the events")
    assert [e["status"] for e in events] == ["sent", "delivered"]


async def test_a_receipt_for_an_unknown_message_is_not_found(service):
    body = json.dumps({"id": "sms-unknown", "status": "delivered"}).encode()
    headers = {"X-Dunning-Signature": sign(RECEIPT_SECRET, int(time.time()), body)}
    assert (await service.api.post("/webhooks/receipts/devprovider", content=body, headers=headers)).status_code == 404


async def test_a_fourth_connected_call_in_one_day_is_not_placed(service):
    loan_id, borrower_id = await booked(service)
    for call in range(1, 4):
        await request(service, loan_id, borrower_id, channel="voice")
        answered = lambda items, n=call: len(items) == n and all(r["status"] == "delivered" for r in items)  # noqa: E731
        await service.all_reminders_when(loan_id, answered, f"call {call} to be answered")
    fourth = await request(service, loan_id, borrower_id, channel="voice")

    [event] = await service.events_when(fourth, lambda e: e, "the fourth call to be refused")
    assert (event["status"], event["reason"]) == ("suppressed", "cn.daily_call_cap")
    assert len(service.provider.state.find("voice", None, None)) == 3
