"""ReminderSent out on dunning.reminder-sent.v1, written straight to JSON.

Every reminder a round decides ends in a ReminderSent, so the events are written here byte for byte as
`uow.emit("ReminderSent", ReminderSent(...))` writes them (tests/unit/test_reports.py holds them to the
contract's models): building and validating a pydantic model and its envelope per event was a tenth of
the dispatcher's time. What goes in is what the service stored from validated events and its own rules."""

import os
from datetime import datetime

from pydantic_core import to_json

from dunning_contracts import Topics
from dunning_platform.tracing import child_traceparent


def report(uow, reminder, status: str, at: datetime, *, source: str) -> None:
    """ReminderSent on the bus: the borrower's address never leaves the service, only ids and outcomes."""
    data = {
        "reminder_id": reminder.reminder_id,
        "loan_id": reminder.loan_id,
        "channel": reminder.channel,
        "status": status,
        "reason": reminder.reason,
        "provider": reminder.provider,
        "provider_message_id": reminder.provider_message_id,
        "occurred_at": at,
    }
    _publish(uow, source, data)


def _publish(uow, source: str, data: dict) -> None:
    """What `uow.emit` writes to the outbox (key, value, traceparent header), without the models."""
    event_id, traceparent = new_event_id(), child_traceparent()
    envelope = {
        "specversion": "1.0", "id": event_id, "source": source, "type": "ReminderSent", "time": uow.clock.now(),
        "subject": data["loan_id"], "datacontenttype": "application/json", "data": data, "traceparent": traceparent,
    }
    key = data["loan_id"].encode()
    headers = [("traceparent", traceparent)]
    uow.publish_raw(Topics.REMINDER_SENT, key, to_json(envelope), headers, event_type="ReminderSent", event_id=event_id)


def new_event_id() -> str:
    """A random (version 4) UUID as `str(uuid.uuid4())` writes it, without building a UUID object."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # the RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
