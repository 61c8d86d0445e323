"""Recording what happened to each reminder of a batch: its new state, its contact history, and the
ReminderSent events, all in the batch's one transaction."""

from datetime import datetime

from dunning_messaging.uow import UnitOfWork
from dunning_notification.adapters import repository
from dunning_notification.adapters.repository import HeldReminder
from dunning_notification.adapters.channels import Receipt
from dunning_notification.config import Settings
from dunning_notification.domain import guard
from dunning_notification.domain.reminders import FAILED, SENT, SUPPRESSED, deferral, retry_after_failure
from dunning_notification.handlers import attempt_row, report
from dunning_notification.metrics import REMINDER_OUTCOMES, SUPPRESSIONS
from dunning_notification.plans import Expire, Fail, Outcome, Plan, Refuse, Send, Wait


# Backoff for a pinned reminder grows no further than base * 2^7 (about 4 minutes with the 2 s default).
PINNED_BACKOFF_STEPS = 8


class OutcomeRecorder:
    """Records one round's outcomes in its unit of work; the contact history goes in one statement."""

    def __init__(self, settings: Settings, uow: UnitOfWork) -> None:
        self._settings = settings
        self._uow = uow
        self._attempts: list[dict] = []

    async def flush(self) -> None:
        await repository.add_attempts(self._uow.session, self._attempts)
        self._attempts = []

    def record(self, reminder: HeldReminder, plan: Plan, outcome: Outcome, now: datetime) -> None:
        reminder.lease_until = None
        reminder.updated_at = now
        match plan:
            case Expire():
                self._expire(reminder, now)
            case Wait(until=until, reason=reason):
                reminder.next_attempt_at, reminder.reason = until, reason
            case Fail(reason=reason, region=region):
                self._attempt(reminder, now, region, "undeliverable", reason=reason)
                self._finish(reminder, FAILED, now, reason=reason)
            case Refuse(verdict=verdict, region=region):
                self._refuse(reminder, verdict, region, now)
            case Send(message=message, region=region):
                # The borrower's preferred channel may have stood in for one they refused.
                reminder.channel = message.channel
                self._sent_or_failed(reminder, outcome, region, now)

    def _expire(self, reminder: HeldReminder, now: datetime) -> None:
        # Expired while a rule held it back: it stays a suppression, reported with that rule.
        if reminder.reason and reminder.reason != "contact_unknown" and reminder.attempts == 0:
            self._finish(reminder, SUPPRESSED, now, reason=reminder.reason, announce=False)
        else:
            self._finish(reminder, FAILED, now, reason=f"expired before it could be sent ({reminder.reason or 'due'})")

    def _refuse(self, reminder: HeldReminder, verdict: guard.Suppressed, region: str, now: datetime) -> None:
        SUPPRESSIONS.labels(verdict.rule).inc()
        self._attempt(reminder, now, region, SUPPRESSED, reason=verdict.rule)
        announce = verdict.rule != reminder.reason
        retry_at = deferral(verdict, reminder.expires_at) or self._pinned_deferral(reminder, verdict)
        if retry_at is None:
            return self._finish(reminder, SUPPRESSED, now, reason=verdict.rule, announce=announce)
        reminder.next_attempt_at, reminder.reason = retry_at, verdict.rule
        if announce:
            self._emit(reminder, SUPPRESSED, now)

    @staticmethod
    def _pinned_deferral(reminder: HeldReminder, verdict: guard.Suppressed) -> datetime | None:
        # Its provider may hold it: the confirmation waits for the rule, whatever the reminder's expiry.
        return verdict.retry_at if reminder.pinned_provider else None

    def _sent_or_failed(self, reminder: HeldReminder, outcome: Outcome, region: str, now: datetime) -> None:
        reminder.attempts += 1
        if isinstance(outcome, Receipt):
            reminder.provider, reminder.provider_message_id, reminder.sent_at = outcome.provider, outcome.message_id, now
            self._attempt(reminder, now, region, SENT, provider=outcome.provider, provider_message_id=outcome.message_id)
            return self._finish(reminder, SENT, now, reason=None)
        self._attempt(reminder, now, region, FAILED, reason=outcome.reason, provider=outcome.provider)
        if outcome.maybe_accepted:
            # This provider may hold the message: retries go to it alone, never to a second provider.
            reminder.pinned_provider = outcome.provider
        if reminder.pinned_provider and outcome.retryable and not outcome.answered:
            return self._await_confirmation(reminder, outcome, now)
        retry_at = retry_after_failure(now, reminder.attempts, self._settings.send_retry_base_s)
        if outcome.retryable and reminder.attempts < self._settings.send_max_attempts and retry_at < reminder.expires_at:
            reminder.next_attempt_at, reminder.reason = retry_at, outcome.reason
            return
        reminder.provider = outcome.provider
        self._finish(reminder, FAILED, now, reason=outcome.reason)

    def _await_confirmation(self, reminder: HeldReminder, outcome, now: datetime) -> None:
        """A reminder its provider may already have delivered is never `failed` for want of an answer (an
        open circuit, a timeout): asking again is safe, the provider's idempotency answers with the message
        it holds, so it stays pending, pinned, until the provider itself answers."""
        attempt = min(reminder.attempts, PINNED_BACKOFF_STEPS)
        reminder.next_attempt_at = retry_after_failure(now, attempt, self._settings.send_retry_base_s)
        reminder.reason = outcome.reason

    def _finish(self, reminder: HeldReminder, status: str, now: datetime, *, reason, announce=True) -> None:
        reminder.status, reminder.reason = status, reason
        REMINDER_OUTCOMES.labels(reminder.channel, status).inc()
        if announce:
            self._emit(reminder, status, now)

    def _attempt(self, reminder: HeldReminder, now: datetime, region: str, outcome: str, **details) -> None:
        self._attempts.append(attempt_row(reminder, now, region, outcome, **details))

    def _emit(self, reminder: HeldReminder, status: str, now: datetime) -> None:
        report(self._uow, reminder, status, now)
