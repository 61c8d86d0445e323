"""What each consumed event does to the notification service. One table, HANDLERS, at the bottom."""

import inspect
from datetime import datetime, timedelta
from functools import partial

from dunning_contracts import CloudEvent
from dunning_contracts.events import (
    HoldPlaced,
    HoldReleased,
    LoanBooked,
    LoanOverdue,
    OverdueCleared,
    ReminderRequested,
)
from dunning_messaging.consumer import Batched
from dunning_messaging.uow import UnitOfWork
from dunning_notification.adapters import repository, wakeup
from dunning_notification.agent_calls import on_contact_attempted
from dunning_notification.adapters.vault import ContactVault
from dunning_notification.domain.reminders import DELIVERED, FAILED, UNDELIVERED, DeliveryReceipt, after_receipt
from dunning_notification.domain.rules import jurisdiction_of
from dunning_notification.metrics import REMINDER_OUTCOMES
from dunning_notification.reports import report
from dunning_platform.errors import NotFound


async def on_loans_booked(uow: UnitOfWork, events: list[tuple[CloudEvent, LoanBooked]], *, vault: ContactVault) -> None:
    """Keep the borrowers' contact book: the only addresses this service will ever write to."""
    booked = [data for _, data in events]
    await repository.upsert_borrowers(uow.session, vault, [data.borrower for data in booked], uow.clock.now())
    await repository.upsert_booked_loans(uow.session, booked)


async def on_loans_overdue(uow: UnitOfWork, events: list[tuple[CloudEvent, LoanOverdue]]) -> None:
    """The figures a reminder quotes (amount, days past due) are the latest the ledger published; a run of
    them is stored with one statement, so a burst of overdue loans does not hold up the reminders queued
    behind it on the same consumer."""
    await repository.record_overdue_figures(uow.session, [data for _, data in events])


async def on_overdue_cleared(uow: UnitOfWork, event: CloudEvent, data: OverdueCleared) -> None:
    """A cleared loan gets no further reminders, even those already waiting here."""
    await repository.mark_loan_cleared(uow.session, data.loan_id, data.cleared_at)


async def on_hold_placed(uow: UnitOfWork, event: CloudEvent, data: HoldPlaced) -> None:
    """A dispute, complaint, bereavement or hardship hold on the case pauses every reminder of the loan
    until it expires; the guard defers them to then (`case_hold`)."""
    await repository.place_hold(uow.session, data)


async def on_hold_released(uow: UnitOfWork, event: CloudEvent, data: HoldReleased) -> None:
    """A hold that ends lets the reminders it deferred go at once (the guard still has its say)."""
    await repository.release_hold(uow.session, data)
    await repository.recheck_held(uow.session, data.loan_id, uow.clock.now())
    await wakeup.announce_due(uow.session)


async def on_reminders_requested(uow: UnitOfWork, events: list[tuple[CloudEvent, ReminderRequested]]) -> None:
    """Store a run of requested reminders as pending, in one statement; the dispatcher sends each once due
    and allowed."""
    if await repository.add_reminders(uow.session, [data for _, data in events], uow.clock.now()):
        await wakeup.announce_due(uow.session)


async def on_delivery_receipt(uow: UnitOfWork, receipt: DeliveryReceipt, *, source: str) -> None:
    """A signed receipt turns `sent` into `delivered` or `failed`; a repeated or late one changes nothing.
    `source`: this service's name on the bus, for the ReminderSent it reports."""
    reminder = await repository.sent_reminder(uow.session, receipt.provider, receipt.message_id, receipt.reference)
    if reminder is None:
        raise NotFound(f"no reminder was sent as {receipt.provider} message {receipt.message_id!r}")
    status = after_receipt(reminder.status, receipt.status)
    if status is None:
        return
    now = uow.clock.now()
    reminder.status, reminder.updated_at = status, now
    reminder.reason = receipt.reason if status == FAILED else None
    REMINDER_OUTCOMES.labels(reminder.channel, status).inc()
    outcome = DELIVERED if status == DELIVERED else UNDELIVERED
    region = await repository.region_of(uow.session, reminder.borrower_id)
    # The provider's clock may run ahead of ours: a contact dated in our future would land on the borrower's
    # next day and slip past that day's call caps. A receipt is never later than its arrival.
    at = min(receipt.occurred_at, now) if receipt.occurred_at else now
    attempt = attempt_row(reminder, at, region, outcome, reason=receipt.reason, provider=receipt.provider)
    await repository.add_attempts(uow.session, [attempt])
    report(uow, reminder, status, at, source=source)


def attempt_row(reminder, at: datetime, region: str, outcome: str, **details) -> dict:
    """One line of contact history, kept as long as the borrower's jurisdiction asks."""
    retain_until = at + timedelta(days=jurisdiction_of(region).retention_days)
    return repository.attempt_row(reminder, at, outcome, retain_until=retain_until, **details)


HANDLERS = {
    "LoanBooked": Batched(on_loans_booked),
    "LoanOverdue": Batched(on_loans_overdue),
    "OverdueCleared": on_overdue_cleared,
    "ReminderRequested": Batched(on_reminders_requested),
    "HoldPlaced": on_hold_placed,
    "HoldReleased": on_hold_released,
    "ContactAttempted": on_contact_attempted,
}


def bind(handlers: dict, **dependencies) -> dict:
    """The handler table with each handler's keyword dependencies (the vault) filled in."""
    return {name: _bind_one(handler, dependencies) for name, handler in handlers.items()}


def _bind_one(handler, dependencies: dict):
    if isinstance(handler, Batched):
        return Batched(_bind_one(handler.handle, dependencies))
    wanted = {k: v for k, v in dependencies.items() if k in inspect.signature(handler).parameters}
    return partial(handler, **wanted) if wanted else handler
