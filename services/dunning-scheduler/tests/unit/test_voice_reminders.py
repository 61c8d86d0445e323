"""Which of notification's reports are calls placed to the borrower, and which were answered."""

from datetime import UTC, datetime, timedelta

import pytest

from dunning_contracts import CloudEvent, new_event
from dunning_contracts.events import ReminderSent
from dunning_scheduler.voice_reminders import cannot_be_voice, voice_calls

AT = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def report(reminder_id: str, status: str, minutes: int = 0, channel: str = "voice") -> ReminderSent:
    return ReminderSent(reminder_id=reminder_id, loan_id="L-1", channel=channel, status=status, occurred_at=AT + timedelta(minutes=minutes))


def test_a_voice_reminder_sent_then_delivered_is_one_answered_call_placed_when_first_sent():
    calls = voice_calls([report("r-1", "sent"), report("r-1", "delivered", 2)])

    assert calls == {"r-1": {"reminder_id": "r-1", "loan_id": "L-1", "attempted_at": AT, "connected_at": AT + timedelta(minutes=2)}}


def test_a_failed_voice_reminder_is_a_call_placed_and_not_answered():
    assert voice_calls([report("r-1", "failed")])["r-1"]["connected_at"] is None


def test_a_refused_reminder_and_other_channels_are_no_calls():
    assert voice_calls([report("r-1", "suppressed"), report("r-2", "sent", channel="sms"), report("r-3", "delivered", channel="email")]) == {}


def wire(report: ReminderSent) -> bytes:
    return new_event("ReminderSent", "urn:test:notification", report, report.loan_id).to_json_bytes()


@pytest.mark.parametrize("channel", ["sms", "push", "email", "letter"])
def test_another_channels_report_is_left_unread(channel):
    assert cannot_be_voice(wire(report("r-1", "sent", channel=channel)))


def test_a_voice_report_is_read_however_its_json_writes_the_channel():
    plain = wire(report("r-1", "delivered"))
    escaped = plain.replace(b'"voice"', b'"\\u0076oice"')

    assert not cannot_be_voice(plain)
    assert CloudEvent.model_validate_json(escaped).data["channel"] == "voice"
    assert not cannot_be_voice(escaped)
