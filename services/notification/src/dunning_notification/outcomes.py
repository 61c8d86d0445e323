"""Recording what happened to each reminder of a batch: its new state, its contact history, and the
ReminderSent events, all in the batch's one transaction."""

from datetime import datetime, timedelta

from dunning_messaging.uow import UnitOfWork
from dunning_notification.adapters import repository
from dunning_notification.adapters.repository import HeldReminder
from dunning_notification.adapters.channels import Receipt
from dunning_notification.config import Settings
from dunning_notification.domain import guard
from dunning_notification.domain.reminders import FAILED, SENT, SUPPRESSED, deferral, retry_after_failure
from dunning_notification.handlers import attempt_row
from dunning_notification.metrics import PROVIDER_UNANSWERED, REMINDER_OUTCOMES, SUPPRESSIONS
from dunning_notification.plans import Expire, Fail, LookUp, NotHeld, Outcome, Plan, Refuse, Send, Wait
from dunning_notification.reports import report


# Backoff for a pinned reminder grows no further than base * 2^7 (about 4 minutes with the 2 s default).
PINNED_BACKOFF_STEPS = 8
# Why a pinned reminder ended failed: its provider never answered, long after the reminder expired.
PROVIDER_UNANSWERED_REASON = "provider_unanswered"


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
            case Send() if outcome is None:
                # Not sent from here (its lease ran out before the call): pending as it was, pin and all.
                pass
            case Send(message=message, region=region, pinned=pinned):
                # The borrower's preferred channel may have stood in for one they refused.
                reminder.channel = message.channel
                self._sent_or_failed(reminder, outcome, region, now, pinned)
            case LookUp() if outcome is None:
                pass
            case LookUp():
                self._looked_up(reminder, plan, outcome, now)

    def _looked_up(self, reminder: HeldReminder, plan: LookUp, outcome: Outcome, now: datetime) -> None:
        """The provider's word on a pinned reminder the guard would now refuse: it holds the message (the
        borrower has it: `sent`), it does not (the request never reached it: nobody was contacted, the pin is
        lifted and the refusal applies), or no word yet (pending, asked again later)."""
        if isinstance(outcome, NotHeld):
            reminder.pinned_provider = None
            if isinstance(plan.refusal, Expire):
                # Its waits while pinned were never announced, so its end is, whatever held it back.
                return self._finish(reminder, FAILED, now, reason=f"expired before it could be sent ({reminder.reason or 'due'})")
            return self.record(reminder, plan.refusal, None, now)
        if isinstance(outcome, Receipt):
            return self._sent_or_failed(reminder, outcome, plan.region, now, plan.provider)
        reminder.attempts += 1
        self._await_confirmation(reminder, outcome, now)

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

    def _sent_or_failed(self, reminder: HeldReminder, outcome: Outcome, region: str, now: datetime, pinned: str | None) -> None:
        reminder.attempts += 1
        if isinstance(outcome, Receipt):
            reminder.provider, reminder.provider_message_id, reminder.sent_at = outcome.provider, outcome.message_id, now
            self._attempt(reminder, now, region, SENT, provider=outcome.provider, provider_message_id=outcome.message_id)
            return self._finish(reminder, SENT, now, reason=None)
        if outcome.called:
            # An open circuit made no call: no contact to keep in the history or to count against the caps.
            self._attempt(reminder, now, region, FAILED, reason=outcome.reason, provider=outcome.provider)
        # The pin set before the call stays only where this provider may hold the message; retries then go to
        # it alone, never to a second provider. A sure refusal puts back the pin of an earlier doubtful call.
        reminder.pinned_provider = outcome.provider if outcome.maybe_accepted else pinned
        if reminder.pinned_provider and outcome.retryable and not outcome.answered:
            return self._await_confirmation(reminder, outcome, now)
        retry_at = self._retry_at(reminder, outcome, now)
        if retry_at is not None:
            reminder.next_attempt_at, reminder.reason = retry_at, outcome.reason
            return
        reminder.provider = outcome.provider
        self._finish(reminder, FAILED, now, reason=outcome.reason)

    def _retry_at(self, reminder: HeldReminder, outcome, now: datetime) -> datetime | None:
        """When to try again, if at all. An open circuit is no attempt at the provider: the reminder waits for
        the circuit to close (about `breaker_reset_s`) until it expires, however many times it met one, so a
        short outage of a slow provider does not use up its attempts in seconds."""
        if not outcome.retryable:
            return None
        if not outcome.called:
            retry_at = retry_after_failure(now, 1, self._settings.breaker_reset_s)
        elif reminder.attempts < self._settings.send_max_attempts:
            retry_at = retry_after_failure(now, reminder.attempts, self._settings.send_retry_base_s)
        else:
            return None
        return retry_at if retry_at < reminder.expires_at else None

    def _await_confirmation(self, reminder: HeldReminder, outcome, now: datetime) -> None:
        """A reminder its provider may already have delivered is never `failed` for want of an answer (an
        open circuit, a timeout): asking again is safe, the provider's idempotency answers with the message
        it holds, so it stays pending, pinned, until the provider itself answers, or until
        `pinned_answer_grace_s` past its expiry, when it ends `failed`: `provider_unanswered`."""
        if now >= reminder.expires_at + timedelta(seconds=self._settings.pinned_answer_grace_s):
            PROVIDER_UNANSWERED.labels(reminder.channel).inc()
            reminder.provider = outcome.provider
            return self._finish(reminder, FAILED, now, reason=PROVIDER_UNANSWERED_REASON)
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
        report(self._uow, reminder, status, now, source=self._settings.source)
