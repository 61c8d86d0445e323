"""Sending due reminders: claim them, ask the guard, send through the channel, record what happened.

No transaction is open while a provider is called: a claim is a lease (SKIP LOCKED, then committed), the
calls happen, and the outcomes are recorded only where the lease is still ours. A crash mid-call lets the
lease run out and another dispatcher retry with the same idempotency reference."""

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from dunning_messaging.uow import UnitOfWork
from dunning_notification.adapters import repository
from dunning_notification.adapters.channels import ChannelRouter, DeliveryFailed, OutboundMessage, Receipt
from dunning_notification.adapters.orm import Reminder
from dunning_notification.adapters.vault import ContactVault
from dunning_notification.config import Settings
from dunning_notification.domain import guard
from dunning_notification.domain.contact import Contact
from dunning_notification.domain.history import LOOKBACK, PastContact, summarise
from dunning_notification.domain.reminders import FAILED, SENT, SUPPRESSED, LoanFigures, deferral, message_context
from dunning_notification.domain.reminders import retry_after_failure
from dunning_notification.domain.templates import TemplateCatalogue, UnknownTemplate
from dunning_notification.handlers import record_attempt, report
from dunning_notification.metrics import PROVIDER_LATENCY, REMINDER_OUTCOMES, SUPPRESSIONS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Send:
    message: OutboundMessage
    region: str
    pinned: str | None = None


@dataclass(frozen=True)
class Refuse:
    verdict: guard.Suppressed
    region: str


@dataclass(frozen=True)
class Fail:
    reason: str
    region: str = "CN"


@dataclass(frozen=True)
class Wait:
    until: datetime
    reason: str


@dataclass(frozen=True)
class Expire:
    pass


Plan = Send | Refuse | Fail | Wait | Expire
Outcome = Receipt | DeliveryFailed | None


@dataclass
class Batch:
    """What one round of dispatching knows about the borrowers and loans of its reminders."""

    contacts: dict[str, Contact]
    loans: dict[str, tuple]
    preferences: dict[str, guard.Preferences]
    history: dict[str, list[PastContact]]


class Dispatcher:
    def __init__(
        self, runtime, *, channels: ChannelRouter, catalogue: TemplateCatalogue, vault: ContactVault, settings: Settings
    ) -> None:
        self._runtime = runtime
        self._channels = channels
        self._catalogue = catalogue
        self._vault = vault
        self._settings = settings
        self._slots = asyncio.Semaphore(settings.dispatch_concurrency)

    async def dispatch_due(self) -> int:
        """Claim one batch of due reminders, decide, send, record; returns how many were claimed.

        Three short transactions per batch, none open during a provider call: claim (a lease), read what
        the guard and the templates need, record every outcome with its events."""
        now = self._runtime.clock.now()
        lease_until = now + timedelta(seconds=self._settings.dispatch_lease_s)
        async with self._runtime.uow() as uow:
            claimed = await repository.claim_due(uow.session, now, self._settings.dispatch_batch_size, lease_until)
            await uow.commit()
        if claimed:
            plans = await self._plan_all(claimed, now)
            outcomes = await self._send_all(plans)
            await self._record_all(plans, outcomes, lease_until)
        return len(claimed)

    async def _plan_all(self, claimed: list[Reminder], now: datetime) -> dict[str, Plan]:
        async with self._runtime.uow() as uow:
            batch = await self._load(uow, claimed, now)
        # In claim order: a send planned for a borrower counts against the caps of the next one in the batch.
        return {reminder.reminder_id: self._plan_safely(reminder, batch, now) for reminder in claimed}

    async def _load(self, uow: UnitOfWork, claimed: list[Reminder], now: datetime) -> Batch:
        borrowers = {r.borrower_id for r in claimed}
        return Batch(
            contacts=await repository.contacts_of(uow.session, self._vault, borrowers),
            loans=await repository.loans_of(uow.session, {r.loan_id for r in claimed}),
            preferences=await repository.preferences_of(uow.session, borrowers),
            history=await repository.recent_contacts(uow.session, borrowers, now - LOOKBACK),
        )

    def _plan_safely(self, reminder: Reminder, batch: Batch, now: datetime) -> Plan:
        try:
            plan = self._plan(reminder, batch, now)
        except Exception as error:
            log.exception("reminder %s could not be prepared", reminder.reminder_id)
            return Fail(f"could not be prepared: {type(error).__name__}")
        if isinstance(plan, Send):
            batch.history.setdefault(reminder.borrower_id, []).append(PastContact(reminder.channel, now, SENT))
        return plan

    def _plan(self, reminder: Reminder, batch: Batch, now: datetime) -> Plan:
        if now >= reminder.expires_at:
            return Expire()
        contact = batch.contacts.get(reminder.borrower_id)
        if contact is None:
            return self._wait_for_contact(reminder, now)
        address = contact.address_for(reminder.channel)
        if not address or not self._channels.supports(reminder.channel):
            return Fail(f"no {reminder.channel} address or provider for the borrower", contact.region)
        figures, cleared = batch.loans.get(reminder.loan_id, (LoanFigures(), False))
        verdict = guard.check(self._contact_request(reminder, contact, batch, cleared, now), now)
        if isinstance(verdict, guard.Suppressed):
            return Refuse(verdict, contact.region)
        return self._compose(reminder, contact, figures, address)

    def _wait_for_contact(self, reminder: Reminder, now: datetime) -> Plan:
        # The LoanBooked with the borrower's contact data may still be on its way (another topic).
        until = now + timedelta(seconds=self._settings.unknown_contact_retry_s)
        if until >= reminder.expires_at:
            return Fail("no contact data for the borrower")
        return Wait(until, "contact_unknown")

    @staticmethod
    def _contact_request(reminder: Reminder, contact: Contact, batch: Batch, cleared: bool, now: datetime):
        past = batch.history.get(reminder.borrower_id, [])
        history = summarise(past, reminder.channel, contact.timezone, now)
        preferences = batch.preferences.get(reminder.borrower_id, guard.Preferences())
        return guard.ContactRequest(reminder.channel, contact.timezone, contact.region, preferences, history, cleared)

    def _compose(self, reminder: Reminder, contact: Contact, figures: LoanFigures, address: str) -> Plan:
        # The borrower's own language from the contact book wins over the requested default.
        locale = contact.locale or reminder.locale
        try:
            key = self._catalogue.resolve(reminder.channel, reminder.template, locale, reminder.stage)
        except UnknownTemplate as error:
            return Fail(str(error), contact.region)
        context = message_context(contact.name, reminder.loan_id, figures, key.locale, reminder.stage)
        rendered = self._catalogue.render(key, context)
        message = OutboundMessage(reminder.reminder_id, reminder.channel, address, rendered.body, rendered.subject)
        return Send(message, contact.region, reminder.pinned_provider)

    async def _send_all(self, plans: dict[str, Plan]) -> dict[str, Outcome]:
        sends = {reminder_id: plan for reminder_id, plan in plans.items() if isinstance(plan, Send)}
        results = await asyncio.gather(*(self._send(plan) for plan in sends.values()))
        return dict(zip(sends, results))

    async def _send(self, plan: Send) -> Outcome:
        async with self._slots:
            started = time.perf_counter()
            try:
                receipt = await self._channels.send(plan.message, plan.pinned)
            except DeliveryFailed as failure:
                PROVIDER_LATENCY.labels(plan.message.channel, "failed").observe(time.perf_counter() - started)
                return failure
            PROVIDER_LATENCY.labels(plan.message.channel, "sent").observe(time.perf_counter() - started)
            return receipt

    async def _record_all(self, plans: dict[str, Plan], outcomes: dict[str, Outcome], lease_until: datetime) -> None:
        async with self._runtime.uow() as uow:
            now = uow.clock.now()
            for reminder in await repository.still_held(uow.session, list(plans), lease_until):
                self._record(uow, reminder, plans[reminder.reminder_id], outcomes.get(reminder.reminder_id), now)
            await uow.commit()

    def _record(self, uow: UnitOfWork, reminder: Reminder, plan: Plan, outcome: Outcome, now: datetime) -> None:
        reminder.lease_until = None
        reminder.updated_at = now
        match plan:
            case Expire():
                self._expire(uow, reminder, now)
            case Wait(until=until, reason=reason):
                reminder.next_attempt_at, reminder.reason = until, reason
            case Fail(reason=reason, region=region):
                self._attempt(uow, reminder, now, region, "undeliverable", reason=reason)
                self._finish(uow, reminder, FAILED, now, reason=reason)
            case Refuse(verdict=verdict, region=region):
                self._refuse(uow, reminder, verdict, region, now)
            case Send(region=region):
                self._sent_or_failed(uow, reminder, outcome, region, now)

    def _expire(self, uow: UnitOfWork, reminder: Reminder, now: datetime) -> None:
        # Expired while a rule held it back: it stays a suppression, reported with that rule.
        if reminder.reason and reminder.reason != "contact_unknown" and reminder.attempts == 0:
            self._finish(uow, reminder, SUPPRESSED, now, reason=reminder.reason, announce=False)
        else:
            self._finish(uow, reminder, FAILED, now, reason=f"expired before it could be sent ({reminder.reason or 'due'})")

    def _refuse(self, uow: UnitOfWork, reminder: Reminder, verdict: guard.Suppressed, region: str, now: datetime) -> None:
        SUPPRESSIONS.labels(verdict.rule).inc()
        self._attempt(uow, reminder, now, region, SUPPRESSED, reason=verdict.rule)
        announce = verdict.rule != reminder.reason
        retry_at = deferral(verdict, reminder.expires_at)
        if retry_at is None:
            return self._finish(uow, reminder, SUPPRESSED, now, reason=verdict.rule, announce=announce)
        reminder.next_attempt_at, reminder.reason = retry_at, verdict.rule
        if announce:
            self._emit(uow, reminder, SUPPRESSED, now)

    def _sent_or_failed(self, uow: UnitOfWork, reminder: Reminder, outcome: Outcome, region: str, now: datetime) -> None:
        reminder.attempts += 1
        if isinstance(outcome, Receipt):
            reminder.provider, reminder.provider_message_id, reminder.sent_at = outcome.provider, outcome.message_id, now
            self._attempt(uow, reminder, now, region, SENT, provider=outcome.provider, provider_message_id=outcome.message_id)
            return self._finish(uow, reminder, SENT, now, reason=None)
        self._attempt(uow, reminder, now, region, FAILED, reason=outcome.reason, provider=outcome.provider)
        if outcome.maybe_accepted:
            # This provider may hold the message: retries go to it alone, never to a second provider.
            reminder.pinned_provider = outcome.provider
        retry_at = retry_after_failure(now, reminder.attempts, self._settings.send_retry_base_s)
        if outcome.retryable and reminder.attempts < self._settings.send_max_attempts and retry_at < reminder.expires_at:
            reminder.next_attempt_at, reminder.reason = retry_at, outcome.reason
            return
        reminder.provider = outcome.provider
        self._finish(uow, reminder, FAILED, now, reason=outcome.reason)

    def _finish(self, uow: UnitOfWork, reminder: Reminder, status: str, now: datetime, *, reason, announce=True) -> None:
        reminder.status, reminder.reason = status, reason
        REMINDER_OUTCOMES.labels(reminder.channel, status).inc()
        if announce:
            self._emit(uow, reminder, status, now)

    @staticmethod
    def _attempt(uow: UnitOfWork, reminder: Reminder, now: datetime, region: str, outcome: str, **details) -> None:
        record_attempt(uow, reminder, now, region, outcome, **details)

    @staticmethod
    def _emit(uow: UnitOfWork, reminder: Reminder, status: str, now: datetime) -> None:
        report(uow, reminder, status, now)
