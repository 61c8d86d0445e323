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
        retry_at = deferral(verdict, reminder.expires_at)
        if retry_at is None:
            return self._finish(reminder, SUPPRESSED, now, reason=verdict.rule, announce=announce)
        reminder.next_attempt_at, reminder.reason = retry_at, verdict.rule
        if announce:
            self._emit(reminder, SUPPRESSED, now)

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
        retry_at = retry_after_failure(now, reminder.attempts, self._settings.send_retry_base_s)
        if outcome.retryable and reminder.attempts < self._settings.send_max_attempts and retry_at < reminder.expires_at:
            reminder.next_attempt_at, reminder.reason = retry_at, outcome.reason
            return
        reminder.provider = outcome.provider
        self._finish(reminder, FAILED, now, reason=outcome.reason)

    def _finish(self, reminder: HeldReminder, status: str, now: datetime, *, reason, announce=True) -> None:
        reminder.status, reminder.reason = status, reason
        REMINDER_OUTCOMES.labels(reminder.channel, status).inc()
        if announce:
            self._emit(reminder, status, now)

    def _attempt(self, reminder: HeldReminder, now: datetime, region: str, outcome: str, **details) -> None:
        self._attempts.append(attempt_row(reminder, now, region, outcome, **details))

    def _emit(self, reminder: HeldReminder, status: str, now: datetime) -> None:
        report(self._uow, reminder, status, now)
