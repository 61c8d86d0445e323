"""Every query of the notification schema."""

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from dunning_contracts.events import Borrower as BorrowerData
from dunning_contracts.events import LoanBooked, LoanOverdue, ReminderRequested
from dunning_notification.adapters.orm import Borrower, ContactAttempt, ContactPreferences, Loan, Reminder
from dunning_notification.adapters.vault import ContactVault
from dunning_notification.domain.contact import Contact
from dunning_notification.domain.guard import Preferences
from dunning_notification.domain.history import PastContact
from dunning_notification.domain.reminders import PENDING, LoanFigures

async def upsert_borrower(session: AsyncSession, vault: ContactVault, borrower: BorrowerData, now: datetime) -> None:
    values = {
        "borrower_id": borrower.borrower_id,
        "name_enc": vault.seal(borrower.name),
        "phone_enc": vault.seal(borrower.phone),
        "email_enc": vault.seal(borrower.email),
        "locale": borrower.locale,
        "timezone": borrower.timezone,
        "region": borrower.region,
        "updated_at": now,
    }
    statement = insert(Borrower).values(values)
    await session.execute(statement.on_conflict_do_update(index_elements=[Borrower.borrower_id], set_=values))


async def upsert_booked_loan(session: AsyncSession, loan: LoanBooked) -> None:
    values = {
        "loan_id": loan.loan_id,
        "borrower_id": loan.borrower.borrower_id,
        "lender": loan.lender,
        "currency": loan.currency,
    }
    statement = insert(Loan).values(values)
    await session.execute(statement.on_conflict_do_update(index_elements=[Loan.loan_id], set_=values))


async def record_overdue_figures(session: AsyncSession, overdue: LoanOverdue) -> None:
    values = {
        "loan_id": overdue.loan_id,
        "borrower_id": overdue.borrower_id,
        "lender": overdue.lender,
        "currency": overdue.currency,
        "overdue_amount": overdue.overdue_amount,
        "days_past_due": overdue.days_past_due,
        "figures_as_of": overdue.as_of,
        "cleared_at": None,
    }
    statement = insert(Loan).values(values)
    # Only newer figures win; an older LoanOverdue delivered late must not reopen a cleared loan.
    newer = Loan.figures_as_of.is_(None) | (Loan.figures_as_of < statement.excluded.figures_as_of)
    statement = statement.on_conflict_do_update(index_elements=[Loan.loan_id], set_=values, where=newer)
    await session.execute(statement)


async def mark_loan_cleared(session: AsyncSession, loan_id: str, cleared_at: datetime) -> None:
    await session.execute(
        update(Loan).where(Loan.loan_id == loan_id).values(cleared_at=cleared_at, figures_as_of=cleared_at)
    )


async def add_reminder(session: AsyncSession, request: ReminderRequested, now: datetime) -> bool:
    """Store a requested reminder; False when it is already known (the same reminder_id requested again)."""
    values = {
        **request.model_dump(include={"reminder_id", "case_id", "loan_id", "borrower_id", "channel", "template"}),
        **request.model_dump(include={"locale", "stage", "not_before", "expires_at"}),
        "status": PENDING,
        "next_attempt_at": request.not_before,
        "requested_at": now,
        "updated_at": now,
    }
    statement = insert(Reminder).values(values).on_conflict_do_nothing().returning(Reminder.reminder_id)
    return (await session.execute(statement)).first() is not None


async def claim_due(session: AsyncSession, now: datetime, limit: int, lease_until: datetime) -> list[Reminder]:
    """Take due reminders for this dispatcher; SKIP LOCKED lets replicas claim disjoint sets.

    A borrower with a reminder in flight at another dispatcher is left out, so that the day's caps are
    counted by one dispatcher at a time for each borrower."""
    in_flight = aliased(Reminder)
    busy = (
        select(in_flight.reminder_id)
        .where(in_flight.borrower_id == Reminder.borrower_id, in_flight.status == PENDING)
        .where(in_flight.lease_until > now)
    )
    due = (
        select(Reminder.reminder_id)
        .where(Reminder.status == PENDING, Reminder.next_attempt_at <= now)
        .where(Reminder.lease_until.is_(None) | (Reminder.lease_until <= now))
        .where(~busy.exists())
        .order_by(Reminder.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(Reminder)
        .where(Reminder.reminder_id.in_(due.scalar_subquery()))
        .values(lease_until=lease_until)
        .returning(Reminder)
    )
    return list((await session.scalars(statement, execution_options={"synchronize_session": False})).all())


def add_attempt(session: AsyncSession, reminder: Reminder, now: datetime, outcome: str, **details) -> None:
    session.add(
        ContactAttempt(
            reminder_id=reminder.reminder_id,
            loan_id=reminder.loan_id,
            borrower_id=reminder.borrower_id,
            channel=reminder.channel,
            occurred_at=now,
            outcome=outcome,
            retain_until=details.pop("retain_until"),
            **details,
        )
    )


async def reminders(session: AsyncSession, *, loan_id: str | None, status: str | None, limit: int) -> list[Reminder]:
    statement = select(Reminder).order_by(Reminder.requested_at.desc(), Reminder.reminder_id).limit(limit)
    if loan_id:
        statement = statement.where(Reminder.loan_id == loan_id)
    if status:
        statement = statement.where(Reminder.status == status)
    return list((await session.scalars(statement)).all())


async def attempts_of(session: AsyncSession, reminder_ids: list[str]) -> list[ContactAttempt]:
    if not reminder_ids:
        return []
    statement = (
        select(ContactAttempt)
        .where(ContactAttempt.reminder_id.in_(reminder_ids))
        .order_by(ContactAttempt.occurred_at, ContactAttempt.id)
    )
    return list((await session.scalars(statement)).all())


async def save_preferences(session: AsyncSession, borrower_id: str, values: dict, now: datetime) -> ContactPreferences:
    row = {"borrower_id": borrower_id, **values, "updated_at": now}
    statement = insert(ContactPreferences).values(row)
    statement = statement.on_conflict_do_update(index_elements=[ContactPreferences.borrower_id], set_=row)
    await session.execute(statement.returning(ContactPreferences.borrower_id))
    return await session.get(ContactPreferences, borrower_id, populate_existing=True)


async def preferences_row(session: AsyncSession, borrower_id: str) -> ContactPreferences | None:
    return await session.get(ContactPreferences, borrower_id)


async def recheck_pending(session: AsyncSession, borrower_id: str, now: datetime) -> None:
    """After a change of preferences, deferred reminders are looked at again by the guard now."""
    await session.execute(
        update(Reminder)
        .where(Reminder.borrower_id == borrower_id, Reminder.status == PENDING, Reminder.next_attempt_at > now)
        .values(next_attempt_at=now)
    )


async def sent_reminder(session: AsyncSession, provider: str, message_id: str, reference: str | None) -> Reminder | None:
    """The reminder a delivery receipt is about, locked; by the provider's message id, else our reference."""
    by_message = (Reminder.provider == provider) & (Reminder.provider_message_id == message_id)
    match = by_message | (Reminder.reminder_id == reference) if reference else by_message
    statement = select(Reminder).where(match).with_for_update().limit(1)
    return (await session.scalars(statement)).first()


async def region_of(session: AsyncSession, borrower_id: str) -> str:
    region = await session.scalar(select(Borrower.region).where(Borrower.borrower_id == borrower_id))
    return region or "CN"


async def purge_history(session: AsyncSession, now: datetime, limit: int) -> int:
    """Delete contact history past its jurisdiction's retention period, a batch at a time."""
    expired = select(ContactAttempt.id).where(ContactAttempt.retain_until < now).limit(limit)
    result = await session.execute(delete(ContactAttempt).where(ContactAttempt.id.in_(expired.scalar_subquery())))
    return result.rowcount or 0


async def contacts_of(session: AsyncSession, vault: ContactVault, borrower_ids: set[str]) -> dict[str, Contact]:
    rows = await session.scalars(select(Borrower).where(Borrower.borrower_id.in_(borrower_ids)))
    return {row.borrower_id: _contact(vault, row) for row in rows}


def _contact(vault: ContactVault, row: Borrower) -> Contact:
    return Contact(
        borrower_id=row.borrower_id,
        name=vault.open(row.name_enc) or "",
        phone=vault.open(row.phone_enc),
        email=vault.open(row.email_enc),
        locale=row.locale,
        timezone=row.timezone,
        region=row.region,
    )


async def loans_of(session: AsyncSession, loan_ids: set[str]) -> dict[str, tuple[LoanFigures, bool]]:
    rows = await session.scalars(select(Loan).where(Loan.loan_id.in_(loan_ids)))
    return {
        row.loan_id: (LoanFigures(row.lender, row.currency, row.overdue_amount, row.days_past_due), row.cleared_at is not None)
        for row in rows
    }


async def preferences_of(session: AsyncSession, borrower_ids: set[str]) -> dict[str, Preferences]:
    rows = await session.scalars(select(ContactPreferences).where(ContactPreferences.borrower_id.in_(borrower_ids)))
    return {row.borrower_id: _preferences(row) for row in rows}


def _preferences(row: ContactPreferences) -> Preferences:
    hours = (row.contact_from, row.contact_until) if row.contact_from and row.contact_until else None
    return Preferences(frozenset(row.opted_out or ()), row.do_not_contact, row.hold_until, hours, row.preferred_channel)


async def recent_contacts(session: AsyncSession, borrower_ids: set[str], since: datetime) -> dict[str, list[PastContact]]:
    statement = select(ContactAttempt.borrower_id, ContactAttempt.channel, ContactAttempt.occurred_at, ContactAttempt.outcome)
    statement = statement.where(ContactAttempt.borrower_id.in_(borrower_ids), ContactAttempt.occurred_at >= since)
    found: dict[str, list[PastContact]] = {}
    for borrower_id, channel, occurred_at, outcome in await session.execute(statement):
        found.setdefault(borrower_id, []).append(PastContact(channel, occurred_at, outcome))
    return found


async def still_held(session: AsyncSession, reminder_ids: list[str], lease_until: datetime) -> list[Reminder]:
    """The claimed reminders this dispatcher still holds, locked; one whose lease ran out is another's now."""
    statement = (
        select(Reminder)
        .where(Reminder.reminder_id.in_(reminder_ids), Reminder.status == PENDING, Reminder.lease_until == lease_until)
        .with_for_update()
    )
    return list((await session.scalars(statement)).all())
