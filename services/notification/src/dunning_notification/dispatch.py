"""Sending due reminders: claim them, ask the guard, send through the channel, record what happened.

No transaction is open while a provider is called: a claim is a lease (SKIP LOCKED, then committed), the
calls happen, and the outcomes are recorded only where the lease is still ours. A crash mid-call lets the
lease run out and another dispatcher retry with the same idempotency reference.

A round is short transactions (claim, read, one pin before each provider call, record) around the calls;
messages of a channel whose provider has a batch API travel up to 100 to a request.

The pin is committed before a request leaves: from then on the message may be at that provider, so a crash
or a lost answer leaves the reminder pinned to it, and the next dispatcher asks that provider again (same
reference, the provider answers with the message it holds): the contact, if any, was made when the guard
allowed it, and a cure or expiry since must not turn it into `suppressed`. But the request may never have
left before a kill, and then a re-send is a first contact: one the guard would now refuse (an opt-out, a
cure, a hold, its expiry) is not re-sent, its provider is asked whether it holds the reference instead."""

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from dunning_messaging.uow import UnitOfWork
from dunning_notification.adapters import repository
from dunning_notification.adapters.repository import ClaimedReminder
from dunning_notification.adapters.channels import ChannelRouter, DeliveryFailed, OutboundMessage, Receipt
from dunning_notification.adapters.vault import ContactVault
from dunning_notification.adapters.wakeup import Wakeup
from dunning_notification.config import Settings
from dunning_notification.domain import guard
from dunning_notification.domain.contact import Contact, channel_for
from dunning_notification.domain.history import LOOKBACK, PastContact, summarise
from dunning_notification.domain.reminders import SENT, LoanFigures, LoanState, message_context, voicemail_context
from dunning_notification.domain.templates import TemplateCatalogue, UnknownTemplate
from dunning_notification.metrics import PROVIDER_LATENCY
from dunning_notification.outcomes import OutcomeRecorder
from dunning_notification.plans import Expire, Fail, LookUp, NotHeld, Outcome, Plan, Refuse, Send, Wait

log = logging.getLogger(__name__)


@dataclass
class Batch:
    """What one round of dispatching knows about the borrowers and loans of its reminders."""

    contacts: dict[str, Contact]
    loans: dict[str, LoanState]
    preferences: dict[str, guard.Preferences]
    history: dict[str, list[PastContact]]


@dataclass
class Round:
    """One claimed batch of reminders, decided and waiting to be sent."""

    claimed: list[ClaimedReminder]
    plans: dict[str, Plan]
    lease_until: datetime


def _reap(tasks: set[asyncio.Task]) -> set[asyncio.Task]:
    """The rounds still running; a failed one is logged (its reminders' leases run out and are claimed again)."""
    for task in [task for task in tasks if task.done()]:
        if not task.cancelled() and task.exception() is not None:
            log.error("a dispatch round failed", exc_info=task.exception())
    return {task for task in tasks if not task.done()}


def _cured(reminder: ClaimedReminder, loan: LoanState) -> bool:
    """Whether the loan's cure stops this reminder: only those of the cured episode, not what comes after."""
    cure = loan.clearance
    return cure is not None and cure.covers(reminder.case_id, reminder.requested_at, reminder.not_before)


def _standing_refusal(
    reminder: ClaimedReminder, channel: str, contact: Contact, preferences: guard.Preferences, loan: LoanState, now: datetime
) -> Refuse | Expire | None:
    """What the guard would refuse a fresh reminder for, the window and the caps aside, or its expiry."""
    if now >= reminder.expires_at:
        return Expire()
    request = guard.ContactRequest(
        channel, contact.timezone, contact.region, preferences, loan_cleared=_cured(reminder, loan), case_held_until=loan.held_until
    )
    verdict = guard.standing_refusal(request, now)
    return Refuse(verdict, contact.region) if verdict is not None else None


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

    async def run(self, wake: Wakeup, stopping: asyncio.Event) -> None:
        """Claim a round whenever one may find work, up to `dispatch_pipeline_depth` rounds in flight: at
        once after a full claim, when new reminders are announced, when a round ends (its borrowers may have
        more due), and every `dispatch_interval_s` for deferred ones coming due. A reminder stored while a
        round is at the provider is claimed then, not after that round is recorded.

        Rounds overlap safely: a claim leaves out every borrower with a reminder in flight, so two rounds
        never share a borrower and each one's caps stay exact."""
        in_flight: set[asyncio.Task] = set()
        depth = self._settings.dispatch_pipeline_depth
        try:
            while not stopping.is_set():
                full = len(in_flight) < depth and await self._start_round(in_flight)
                if not full or len(in_flight) >= depth:
                    await wake.ensure_listening()
                    await wake.wait(stopping, self._settings.dispatch_interval_s, or_any_of=in_flight)
                in_flight = _reap(in_flight)
        finally:
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def _start_round(self, in_flight: set[asyncio.Task]) -> bool:
        """Claim and decide a round, sent and recorded in a task of its own; whether the claim was full."""
        try:
            round_ = await self.prepare()
        except Exception:
            # The database may be restarting; the next occasion tries again, nothing is lost (leases expire).
            log.exception("dispatching reminders failed")
            return False
        if round_ is None:
            return False
        in_flight.add(asyncio.create_task(self.complete(round_)))
        return len(round_.claimed) >= self._settings.dispatch_batch_size

    async def prepare(self) -> Round | None:
        """Claim due reminders (a lease, committed at once) and decide each; None when nothing is due."""
        now = self._runtime.clock.now()
        lease_until = now + timedelta(seconds=self._settings.dispatch_lease_s)
        async with self._runtime.uow() as uow:
            claimed = await repository.claim_due(uow.session, now, self._settings.dispatch_batch_size, lease_until)
            await uow.commit()
        if not claimed:
            return None
        return Round(claimed, await self._plan_all(claimed, now), lease_until)

    async def complete(self, round_: Round) -> None:
        """Send what was planned and record every outcome; no transaction is open during the calls."""
        sent, looked_up = await asyncio.gather(self._send_all(round_.plans, round_.lease_until), self._look_up_all(round_.plans))
        outcomes = sent | looked_up
        await self._record_all(round_.plans, outcomes, round_.lease_until)

    async def _plan_all(self, claimed: list[ClaimedReminder], now: datetime) -> dict[str, Plan]:
        async with self._runtime.uow() as uow:
            batch = await self._load(uow, claimed, now)
        # In claim order: a send planned for a borrower counts against the caps of the next one in the batch.
        return {reminder.reminder_id: self._plan_safely(reminder, batch, now) for reminder in claimed}

    async def _load(self, uow: UnitOfWork, claimed: list[ClaimedReminder], now: datetime) -> Batch:
        borrowers = {r.borrower_id for r in claimed}
        return Batch(
            contacts=await repository.contacts_of(uow.session, self._vault, borrowers),
            loans=await repository.loans_of(uow.session, {r.loan_id for r in claimed}, now),
            preferences=await repository.preferences_of(uow.session, borrowers),
            history=await repository.recent_contacts(uow.session, borrowers, now - LOOKBACK),
        )

    def _plan_safely(self, reminder: ClaimedReminder, batch: Batch, now: datetime) -> Plan:
        try:
            plan = self._plan(reminder, batch, now)
        except Exception as error:
            log.exception("reminder %s could not be prepared", reminder.reminder_id)
            return Fail(f"could not be prepared: {type(error).__name__}")
        if isinstance(plan, Send):
            batch.history.setdefault(reminder.borrower_id, []).append(PastContact(plan.message.channel, now, SENT))
        return plan

    def _plan(self, reminder: ClaimedReminder, batch: Batch, now: datetime) -> Plan:
        # A pinned reminder may be with the borrower already: only its provider's answer ends it, even late.
        if now >= reminder.expires_at and not reminder.pinned_provider:
            return Expire()
        contact = batch.contacts.get(reminder.borrower_id)
        if contact is None:
            return self._wait_for_contact(reminder, now)
        preferences = batch.preferences.get(reminder.borrower_id, guard.Preferences())
        # A pinned reminder keeps the channel it went out on: another channel would be a second message.
        channel = reminder.channel if reminder.pinned_provider else channel_for(reminder.channel, preferences, contact)
        address = contact.address_for(channel)
        if not address or not self._channels.supports(channel):
            return Fail(f"no {channel} address or provider for the borrower", contact.region)
        loan = batch.loans.get(reminder.loan_id, LoanState(LoanFigures()))
        if reminder.pinned_provider:
            return self._settle_pinned(reminder, channel, contact, preferences, loan, address, now)
        refused = self._refused(reminder, channel, contact, preferences, loan, batch, now)
        return refused or self._compose(reminder, channel, contact, loan.figures, address)

    def _settle_pinned(
        self, reminder: ClaimedReminder, channel: str, contact: Contact, preferences: guard.Preferences, loan: LoanState,
        address: str, now: datetime,
    ) -> Plan:
        """A pinned reminder is an answer still owed by its provider, not a new contact, so the caps (which
        counted it) stay out. If the request never left before a kill, a re-send is the first contact: one
        the guard would now refuse is asked about instead, and a re-send keeps the contact window."""
        refusal = _standing_refusal(reminder, channel, contact, preferences, loan, now)
        if refusal is not None and self._channels.can_look_up(channel, reminder.pinned_provider):
            return LookUp(channel, reminder.reminder_id, reminder.pinned_provider, refusal, contact.region)
        closed = guard.quiet_hours(guard.ContactRequest(channel, contact.timezone, contact.region), now)
        return Wait(closed.retry_at, closed.rule) if closed else self._compose(reminder, channel, contact, loan.figures, address)

    @staticmethod
    def _refused(
        reminder: ClaimedReminder, channel: str, contact: Contact, preferences: guard.Preferences, loan: LoanState, batch: Batch,
        now: datetime,
    ) -> Refuse | None:
        history = summarise(batch.history.get(reminder.borrower_id, []), channel, contact.timezone, now)
        request = guard.ContactRequest(
            channel, contact.timezone, contact.region, preferences, history, _cured(reminder, loan), loan.held_until
        )
        verdict = guard.check(request, now)
        return Refuse(verdict, contact.region) if isinstance(verdict, guard.Suppressed) else None

    def _wait_for_contact(self, reminder: ClaimedReminder, now: datetime) -> Plan:
        # The LoanBooked with the borrower's contact data may still be on its way (another topic).
        until = now + timedelta(seconds=self._settings.unknown_contact_retry_s)
        if until >= reminder.expires_at:
            return Fail("no contact data for the borrower")
        return Wait(until, "contact_unknown")

    def _compose(self, reminder: ClaimedReminder, channel: str, contact: Contact, figures: LoanFigures, address: str) -> Plan:
        # The borrower's own language from the contact book wins over the requested default.
        locale = contact.locale or reminder.locale
        try:
            key = self._catalogue.resolve(channel, reminder.template, locale, reminder.stage)
        except UnknownTemplate as error:
            return Fail(str(error), contact.region)
        context = self._context(channel, contact, reminder, figures, key.locale)
        rendered = self._catalogue.render(key, context)
        message = OutboundMessage(reminder.reminder_id, channel, address, rendered.body, rendered.subject)
        return Send(message, contact.region, reminder.pinned_provider)

    def _context(self, channel: str, contact: Contact, reminder: ClaimedReminder, figures: LoanFigures, locale: str) -> dict:
        if channel == "voice":
            return voicemail_context(figures, locale, self._settings.voice_callback_number)
        return message_context(contact.name, reminder.loan_id, figures, locale, reminder.stage)

    async def _send_all(self, plans: dict[str, Plan], lease_until: datetime) -> dict[str, Outcome]:
        """Every planned send, in requests of as many messages as the channel's provider takes at once."""
        sends = [plan for plan in plans.values() if isinstance(plan, Send)]
        outcomes: dict[str, Outcome] = {}
        for found in await asyncio.gather(*(self._send_batch(*job, lease_until) for job in self._jobs(sends))):
            outcomes |= found
        return outcomes

    async def _look_up_all(self, plans: dict[str, Plan]) -> dict[str, Outcome]:
        lookups = [plan for plan in plans.values() if isinstance(plan, LookUp)]
        answers = await asyncio.gather(*(self._look_up(plan) for plan in lookups))
        return {plan.reference: answer for plan, answer in zip(lookups, answers, strict=True)}

    async def _look_up(self, plan: LookUp) -> Outcome:
        async with self._slots:
            try:
                found = await self._channels.lookup(plan.channel, plan.reference, plan.provider)
            except DeliveryFailed as failure:
                return failure
        return found or NotHeld()

    def _jobs(self, sends: list[Send]) -> list[tuple[str, str | None, list[OutboundMessage]]]:
        # A pinned reminder may go only to its provider: it travels apart from the others.
        groups: dict[tuple[str, str | None], list[OutboundMessage]] = {}
        for plan in sends:
            groups.setdefault((plan.message.channel, plan.pinned), []).append(plan.message)
        jobs = []
        for (channel, pinned), messages in groups.items():
            size = self._channels.batch_max(channel)
            jobs += [(channel, pinned, messages[start : start + size]) for start in range(0, len(messages), size)]
        return jobs

    async def _send_batch(
        self, channel: str, pinned: str | None, messages: list[OutboundMessage], lease_until: datetime
    ) -> dict[str, Outcome]:
        async with self._slots:
            started = time.perf_counter()
            results = await self._channels.send_batch(channel, messages, pinned, partial(self._pin, lease_until))
            elapsed = time.perf_counter() - started
        for result in results.values():
            PROVIDER_LATENCY.labels(channel, "sent" if isinstance(result, Receipt) else "failed").observe(elapsed)
        return results

    async def _pin(self, lease_until: datetime, provider: str, messages: list[OutboundMessage]) -> list[OutboundMessage]:
        """Make the attempt durable before the request leaves; a reminder whose lease ran out (another
        dispatcher's now, perhaps refused by the guard there) must not go out from here. Nor may one whose
        lease ends before the call surely has: the next dispatcher could ask the provider about it, hear
        "not held" and refuse it while this request is still on its way."""
        if self._runtime.clock.now() + timedelta(seconds=2 * self._settings.provider_timeout_s) >= lease_until:
            return []
        async with self._runtime.uow() as uow:
            held = await repository.pin_to_provider(uow.session, [m.reference for m in messages], provider, lease_until)
            await uow.commit()
        return [message for message in messages if message.reference in held]

    async def _record_all(self, plans: dict[str, Plan], outcomes: dict[str, Outcome], lease_until: datetime) -> None:
        async with self._runtime.uow() as uow:
            now = uow.clock.now()
            recorder = OutcomeRecorder(self._settings, uow)
            held = await repository.still_held(uow.session, list(plans), lease_until)
            for reminder in held:
                recorder.record(reminder, plans[reminder.reminder_id], outcomes.get(reminder.reminder_id), now)
            await repository.save_held(uow.session, held)
            await recorder.flush()
            await uow.commit()
