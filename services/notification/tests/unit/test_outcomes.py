"""What a failed send does to a reminder that its provider may already hold."""

from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet

from dunning_contracts import CloudEvent
from dunning_contracts.events import ReminderSent

from dunning_notification.adapters.channels import DeliveryFailed, OutboundMessage
from dunning_notification.adapters.repository import HeldReminder
from dunning_notification.config import Settings
from dunning_notification.outcomes import OutcomeRecorder
from dunning_notification.domain.guard import Suppressed
from dunning_notification.plans import Expire, LookUp, NotHeld, Refuse, Send
from dunning_platform.clock import FixedClock

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


class FakeUnitOfWork:
    """Keeps what would go to the outbox; `emitted` reads it back as (type, the contract's model)."""

    clock = FixedClock(NOW)

    def __init__(self) -> None:
        self.published: list[tuple[str, bytes]] = []

    def publish_raw(self, topic, key, value, headers=(), *, event_type=None, event_id=None) -> None:
        self.published.append((event_type, value))

    @property
    def emitted(self) -> list[tuple[str, ReminderSent]]:
        return [(kind, ReminderSent.model_validate(CloudEvent.model_validate_json(value).data)) for kind, value in self.published]


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
    uow = record(held, DeliveryFailed("circuit open for devprovider", retryable=True, provider="devprovider", called=False))
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


def record_as(held: HeldReminder, failure: DeliveryFailed, pinned_before: str | None) -> None:
    plan = Send(OutboundMessage("rem-1", "sms", "13812345678", "hello"), "CN", pinned_before)
    OutcomeRecorder(settings(), FakeUnitOfWork()).record(held, plan, failure, NOW)


def test_a_sure_refusal_lifts_the_pin_set_before_the_call_from_a_reminder_no_provider_may_hold():
    held = reminder(attempts=0)
    record_as(held, DeliveryFailed("provider answered 503", retryable=True, provider="devprovider", answered=True), None)
    assert held.status == "pending" and held.pinned_provider is None


def test_a_sure_refusal_keeps_the_pin_of_an_earlier_call_that_may_have_reached_the_provider():
    held = reminder()
    record_as(held, DeliveryFailed("provider answered 503", retryable=True, provider="devprovider", answered=True), "devprovider")
    assert held.pinned_provider == "devprovider"


def test_a_pinned_reminder_unanswered_past_the_grace_after_its_expiry_ends_failed_provider_unanswered():
    grace = settings().pinned_answer_grace_s
    held = reminder(expires_at=NOW - timedelta(seconds=grace))
    [(kind, event)] = record(held, DeliveryFailed("provider timed out", retryable=True, provider="devprovider", maybe_accepted=True)).emitted
    assert held.status == "failed" and (event.status, event.reason) == ("failed", "provider_unanswered")


def open_circuit() -> DeliveryFailed:
    return DeliveryFailed("circuit open for devprovider", retryable=True, provider="devprovider", called=False)


def test_an_open_circuit_is_no_attempt_a_reminder_waits_for_it_to_close_past_its_allowed_attempts():
    held = reminder(pinned_provider=None, attempts=5)
    recorder = OutcomeRecorder(settings(), FakeUnitOfWork())
    recorder.record(held, Send(OutboundMessage("rem-1", "sms", "13812345678", "hello"), "CN"), open_circuit(), NOW)
    assert held.status == "pending" and held.reason == "circuit open for devprovider"
    assert NOW + timedelta(seconds=settings().breaker_reset_s / 2) <= held.next_attempt_at
    assert recorder._attempts == [], "no call was made: nothing for the contact history or the caps"


def test_a_reminder_that_meets_an_open_circuit_at_its_expiry_ends_failed_with_that_reason():
    held = reminder(pinned_provider=None, expires_at=NOW + timedelta(seconds=5))
    [(kind, event)] = emitted_after(held, open_circuit())
    assert held.status == "failed" and event.reason == "circuit open for devprovider"


def emitted_after(held: HeldReminder, failure: DeliveryFailed) -> list:
    uow = FakeUnitOfWork()
    OutcomeRecorder(settings(), uow).record(held, Send(OutboundMessage("rem-1", "sms", "13812345678", "hello"), "CN"), failure, NOW)
    return uow.emitted


def test_a_provider_refusal_whose_text_holds_a_nul_is_recorded_without_it():
    # PostgreSQL's text and jsonb refuse NUL: kept, it would fail the recording of the whole round.
    held = reminder(pinned_provider=None)
    refusal = DeliveryFailed("provider refused (400): bad\x00number", retryable=False, provider="devprovider", answered=True)
    [(kind, event)] = emitted_after(held, refusal)
    assert held.status == "failed" and held.reason == event.reason == "provider refused (400): badnumber"


def test_a_pinned_reminder_held_back_by_a_case_hold_its_provider_never_got_is_unpinned_and_waits_for_the_hold_to_end():
    held, until = reminder(attempts=0), NOW + timedelta(minutes=30)
    plan = LookUp("sms", "rem-1", "devprovider", Refuse(Suppressed("case_hold", until), "CN"), "CN")
    uow = FakeUnitOfWork()
    OutcomeRecorder(settings(), uow).record(held, plan, NotHeld(), NOW)
    assert (held.status, held.reason, held.next_attempt_at, held.pinned_provider) == ("pending", "case_hold", until, None)
    assert [(kind, event.status) for kind, event in uow.emitted] == [("ReminderSent", "suppressed")]


def test_a_pinned_reminder_that_waited_out_its_life_and_never_reached_its_provider_ends_failed_and_says_so():
    # Waits of a pinned reminder (the contact window) are not announced: its end must be.
    held = reminder(attempts=0, reason="cn.quiet_hours", expires_at=NOW - timedelta(minutes=1))
    uow = FakeUnitOfWork()
    OutcomeRecorder(settings(), uow).record(held, LookUp("sms", "rem-1", "devprovider", Expire(), "CN"), NotHeld(), NOW)
    assert (held.status, held.pinned_provider) == ("failed", None)
    assert [(event.status, event.reason) for _, event in uow.emitted] == [("failed", "expired before it could be sent (cn.quiet_hours)")]
