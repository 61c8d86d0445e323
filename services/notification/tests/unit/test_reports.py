"""ReminderSent is written to JSON by hand, for speed: it must be exactly what the contract's models give,
with every optional field, absent or set, and text in any script."""

import uuid
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from dunning_contracts import CloudEvent, Topics, new_event
from dunning_contracts.events import ReminderSent
from dunning_notification.reports import new_event_id, report
from dunning_platform.clock import FixedClock

NOW = datetime(2026, 11, 27, 4, 0, 0, 123456, tzinfo=UTC)
SOURCE = "urn:dunning:notification"


class RecordingUnitOfWork:
    clock = FixedClock(NOW)

    def __init__(self) -> None:
        self.published: list[dict] = []

    def publish_raw(self, topic, key, value, headers=(), *, event_type=None, event_id=None) -> None:
        self.published.append(
            {"topic": topic, "key": key, "value": value, "headers": list(headers), "type": event_type, "id": event_id}
        )


def reminder(**values) -> SimpleNamespace:
    defaults = dict(reminder_id="rem-1", loan_id='loan "7", with quotes', channel="sms", reason=None, provider=None,
                    provider_message_id=None)
    return SimpleNamespace(**(defaults | values))


def as_the_models_write_it(written: dict, held: SimpleNamespace, status: str, at: datetime) -> bytes:
    data = ReminderSent(
        reminder_id=held.reminder_id, loan_id=held.loan_id, channel=held.channel, status=status, reason=held.reason,
        provider=held.provider, provider_message_id=held.provider_message_id, occurred_at=at,
    )
    event = new_event("ReminderSent", SOURCE, data, held.loan_id, NOW, traceparent=dict(written["headers"])["traceparent"])
    event.id = written["id"]
    return event.to_json_bytes()


def reported(held: SimpleNamespace, status: str, at: datetime) -> dict:
    uow = RecordingUnitOfWork()
    report(uow, held, status, at, source=SOURCE)
    [written] = uow.published
    return written


SHANGHAI = timezone(timedelta(hours=8))
CASES = [
    (reminder(), "suppressed", NOW),
    (reminder(reason="quiet_hours"), "suppressed", NOW.astimezone(SHANGHAI)),
    (reminder(provider="devprovider", provider_message_id="sms-00000001"), "sent", NOW),
    (reminder(channel="email", reason="提供商拒绝 (400): 号码无效 — “引号” ✓", provider="smtp"), "failed", NOW),
    (reminder(channel="voice", reason="line\nbreak \\ and \"quotes\" \x01"), "failed", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    (reminder(provider="devprovider", provider_message_id="sms-1"), "delivered", datetime(2026, 11, 27, 4, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize(("held", "status", "at"), CASES)
def test_a_reminder_sent_is_written_byte_for_byte_as_the_contract_models_write_it(held, status, at):
    written = reported(held, status, at)
    assert written["value"] == as_the_models_write_it(written, held, status, at)


def test_a_reminder_sent_goes_to_its_topic_keyed_by_the_loan_and_reads_back_as_the_contract_event():
    held = reminder(reason="余额不足", provider="devprovider")
    written = reported(held, "failed", NOW)
    assert (written["topic"], written["key"], written["type"]) == (Topics.REMINDER_SENT, held.loan_id.encode(), "ReminderSent")
    event = CloudEvent.model_validate_json(written["value"])
    assert (event.id, event.source, event.subject, event.time) == (written["id"], SOURCE, held.loan_id, NOW)
    data = ReminderSent.model_validate(event.data)
    assert (data.status, data.reason, data.provider, data.provider_message_id) == ("failed", "余额不足", "devprovider", None)


def test_every_report_gets_its_own_id_and_trace():
    uow = RecordingUnitOfWork()
    report(uow, reminder(), "sent", NOW, source=SOURCE)
    report(uow, reminder(), "sent", NOW, source=SOURCE)
    first, second = uow.published
    assert first["id"] != second["id"]
    assert first["headers"] != second["headers"]


def test_a_reported_event_id_is_a_random_version_4_uuid_in_its_usual_text_form():
    ids = [new_event_id() for _ in range(1000)]
    parsed = [uuid.UUID(event_id) for event_id in ids]
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 and str(u) == i for u, i in zip(parsed, ids))
    assert len(set(ids)) == len(ids)
