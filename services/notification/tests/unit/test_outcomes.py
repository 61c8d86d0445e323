"""What a failed send does to a reminder that its provider may already hold."""

from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet

from dunning_notification.adapters.channels import DeliveryFailed, OutboundMessage
from dunning_notification.adapters.repository import HeldReminder
from dunning_notification.config import Settings
from dunning_notification.outcomes import OutcomeRecorder
from dunning_notification.plans import Send

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.emitted: list[tuple[str, object]] = []

    def emit(self, type_name: str, data) -> None:
        self.emitted.append((type_name, data))


def settings() -> Settings:
    return Settings(database_url="postgresql+asyncpg://x@/x", tokens_file="tokens.json", pii_key=Fernet.generate_key().decode(),
                    send_max_attempts=2)


def reminder(**values) -> HeldReminder:
    defaults = dict(reminder_id="rem-1", loan_id="loan-1", borrower_id="b-1", channel="sms", status="pending",
                    reason=None, attempts=1, next_attempt_at=NOW, lease_until=NOW, provider=None,
                    provider_message_id=None, pinned_provider="devprovider", sent_at=None, updated_at=NOW,
                    expires_at=NOW + timedelta(hours=1))
    return HeldReminder(**(defaults | values))


def record(held: HeldReminder, failure: DeliveryFailed, now: datetime = NOW) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    plan = Send(OutboundMessage("rem-1", "sms", "13812345678", "hello"), "CN", held.pinned_provider)
    OutcomeRecorder(settings(), uow).record(held, plan, failure, now)
    return uow


def test_a_pinned_reminder_that_meets_an_open_circuit_on_its_last_attempt_stays_pending():
    held = reminder()
    uow = record(held, DeliveryFailed("circuit open for devprovider", retryable=True, provider="devprovider"))
    assert held.status == "pending" and held.attempts == 2 and held.next_attempt_at > NOW
    assert uow.emitted == [], "nothing is announced: the provider may have the message"


def test_a_pinned_reminder_whose_provider_times_out_after_its_expiry_is_still_asked_again():
    held = reminder(expires_at=NOW - timedelta(minutes=1))
    record(held, DeliveryFailed("provider timed out", retryable=True, provider="devprovider", maybe_accepted=True))
    assert held.status == "pending" and held.pinned_provider == "devprovider"


def test_a_pinned_reminder_ends_failed_when_its_provider_answers_its_last_attempt_with_an_error():
    held = reminder()
    answer = DeliveryFailed("provider answered 500", retryable=True, provider="devprovider", maybe_accepted=True, answered=True)
    [(kind, event)] = record(held, answer).emitted
    assert held.status == "failed" and (kind, event.status, event.reason) == ("ReminderSent", "failed", "provider answered 500")
