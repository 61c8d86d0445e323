"""Every query of the notification schema."""

from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import Text, any_, bindparam, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from dunning_contracts.events import Borrower as BorrowerData
from dunning_contracts.events import HoldPlaced, HoldReleased, LoanBooked, LoanOverdue, ReminderRequested
from dunning_notification.adapters.agent_contacts import agent_contacts
from dunning_notification.adapters.orm import Borrower, ContactAttempt, ContactPreferences, Loan, LoanHold, Reminder
from dunning_notification.adapters.vault import ContactVault
from dunning_notification.domain.contact import Contact
from dunning_notification.domain.guard import CASE_HOLD, Preferences
from dunning_notification.domain.history import PastContact
from dunning_notification.domain.reminders import CASELESS, PENDING, Clearance, LoanFigures, LoanState


async def upsert_borrowers(session: AsyncSession, vault: ContactVault, borrowers: list[BorrowerData], now: datetime) -> None:
    """The contact book, in one statement: the last word on each borrower wins."""
    rows = {b.borrower_id: _borrower_row(vault, b, now) for b in borrowers}
    statement = insert(Borrower.__table__)
    excluded = {column: statement.excluded[column] for column in BORROWER_COLUMNS}
    await session.execute(statement.on_conflict_do_update(index_elements=["borrower_id"], set_=excluded), list(rows.values()))


BORROWER_COLUMNS = ("name_enc", "phone_enc", "email_enc", "locale", "timezone", "region", "updated_at")


def _borrower_row(vault: ContactVault, borrower: BorrowerData, now: datetime) -> dict:
    return {
        "borrower_id": borrower.borrower_id,
        "name_enc": vault.seal(borrower.name),
        "phone_enc": vault.seal(borrower.phone),
        "email_enc": vault.seal(borrower.email),
        "locale": borrower.locale,
        "timezone": borrower.timezone,
        "region": borrower.region,
        "updated_at": now,
    }


async def upsert_booked_loans(session: AsyncSession, loans: list[LoanBooked]) -> None:
    rows = {loan.loan_id: _booked_loan_row(loan) for loan in loans}
    statement = insert(Loan.__table__)
    excluded = {column: statement.excluded[column] for column in ("borrower_id", "lender", "currency")}
    await session.execute(statement.on_conflict_do_update(index_elements=["loan_id"], set_=excluded), list(rows.values()))


def _booked_loan_row(loan: LoanBooked) -> dict:
    return {"loan_id": loan.loan_id, "borrower_id": loan.borrower.borrower_id, "lender": loan.lender, "currency": loan.currency}


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
        "cleared_cases": None,
    }
    statement = insert(Loan).values(values)
    # Only newer figures win; an older LoanOverdue delivered late must not reopen a cleared loan.
    newer = Loan.figures_as_of.is_(None) | (Loan.figures_as_of < statement.excluded.figures_as_of)
    statement = statement.on_conflict_do_update(index_elements=[Loan.loan_id], set_=values, where=newer)
    await session.execute(statement)


async def mark_loan_cleared(session: AsyncSession, loan_id: str, cleared_at: datetime) -> None:
    """The cure, with the cases it closed: those of the loan's reminders known so far, save caseless ones."""
    cases = (
        select(func.array_agg(Reminder.case_id.distinct()))
        .where(Reminder.loan_id == loan_id, Reminder.case_id.not_like(f"{CASELESS}%"))
        .scalar_subquery()
    )
    values = {"cleared_at": cleared_at, "figures_as_of": cleared_at, "cleared_cases": func.coalesce(cases, text("'{}'"))}
    await session.execute(update(Loan).where(Loan.loan_id == loan_id).values(values))


async def add_reminders(session: AsyncSession, requests: list[ReminderRequested], now: datetime) -> int:
    """Store requested reminders in one statement; returns how many were new (a reminder_id requested
    again is already known and left as it is)."""
    columns = {name: [getattr(request, name) for request in requests] for name in REQUESTED_COLUMNS}
    result = await session.execute(ADD_REMINDERS, {**columns, "pending": PENDING, "now": now})
    return len(result.all())


REQUESTED_COLUMNS = (
    "reminder_id", "case_id", "loan_id", "borrower_id", "channel", "template", "locale", "stage", "not_before", "expires_at"
)
# One array per column, whatever the batch size: one statement text to prepare, no row-by-row binding.
ADD_REMINDERS = text(
    "INSERT INTO notification.reminders (reminder_id, case_id, loan_id, borrower_id, channel, template, locale,"
    " stage, not_before, expires_at, status, attempts, next_attempt_at, requested_at, updated_at)"
    " SELECT r, c, l, b, ch, t, lo, st, nb, ex, CAST(:pending AS text), 0, nb, CAST(:now AS timestamptz),"
    " CAST(:now AS timestamptz) FROM unnest("
    " CAST(:reminder_id AS text[]), CAST(:case_id AS text[]), CAST(:loan_id AS text[]), CAST(:borrower_id AS text[]),"
    " CAST(:channel AS text[]), CAST(:template AS text[]), CAST(:locale AS text[]), CAST(:stage AS text[]),"
    " CAST(:not_before AS timestamptz[]), CAST(:expires_at AS timestamptz[])) AS u(r, c, l, b, ch, t, lo, st, nb, ex)"
    " ON CONFLICT DO NOTHING RETURNING reminder_id"
)


async def claim_due(session: AsyncSession, now: datetime, limit: int, lease_until: datetime) -> list[Reminder]:
    """Take due reminders for this dispatcher; SKIP LOCKED lets replicas claim disjoint sets.

    A borrower with a reminder in flight at another dispatcher is left out, so that the day's caps are
    counted by one dispatcher at a time for each borrower. The statement's shape keeps it linear whatever
    the planner believes of a freshly filled table: the borrowers in flight are read once (a hashed
    NOT IN), and the claimed ids are updated by primary key (= ANY of an array)."""
    in_flight = aliased(Reminder)
    busy = select(in_flight.borrower_id).where(
        in_flight.status == PENDING, in_flight.lease_until.is_not(None), in_flight.lease_until > now
    )
    due = (
        select(Reminder.reminder_id)
        .where(Reminder.status == PENDING, Reminder.next_attempt_at <= now)
        .where(Reminder.lease_until.is_(None) | (Reminder.lease_until <= now))
        .where(Reminder.borrower_id.not_in(busy))
        .order_by(Reminder.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(Reminder)
        .where(Reminder.reminder_id == any_(func.array(due.scalar_subquery())))
        .values(lease_until=lease_until)
        .returning(Reminder)
    )
    return list((await session.scalars(statement, execution_options={"synchronize_session": False})).all())


ATTEMPT_DETAILS = {"reason": None, "provider": None, "provider_message_id": None}


def attempt_row(reminder: Reminder, now: datetime, outcome: str, **details) -> dict:
    return {
        "reminder_id": reminder.reminder_id,
        "loan_id": reminder.loan_id,
        "borrower_id": reminder.borrower_id,
        "channel": reminder.channel,
        "occurred_at": now,
        "outcome": outcome,
        **ATTEMPT_DETAILS,
        **details,
    }


async def add_attempts(session: AsyncSession, rows: list[dict]) -> None:
    """Contact history lines in one statement (executemany of one shape: every key in every row)."""
    if rows:
        await session.execute(insert(ContactAttempt.__table__), rows)


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
    """Delete a loan's contact history and reminders once its last attempt is past its jurisdiction's
    retention period (Regulation F 1006.100: records are kept until N years after the last collection
    activity on the debt, not N years after each one); a loan with a reminder still pending is active.
    Up to `limit` loans a call; returns how many were purged."""
    return (await session.execute(PURGE_LOANS, {"now": now, "limit": limit, "pending": PENDING})).scalar_one()


PURGE_LOANS = text(
    "WITH done AS (SELECT loan_id FROM ("
    " SELECT loan_id FROM notification.contact_attempts GROUP BY loan_id HAVING max(retain_until) < :now"
    " EXCEPT SELECT loan_id FROM notification.reminders WHERE status = :pending) AS quiet LIMIT :limit),"
    " attempts AS (DELETE FROM notification.contact_attempts a USING done WHERE a.loan_id = done.loan_id),"
    " reminders AS (DELETE FROM notification.reminders r USING done WHERE r.loan_id = done.loan_id)"
    " SELECT count(*) FROM done"
)


async def contacts_of(session: AsyncSession, vault: ContactVault, borrower_ids: set[str]) -> dict[str, Contact]:
    # Plain rows, not ORM instances: read once per batch and never written back, so no identity map to fill.
    rows = await session.execute(select(*Borrower.__table__.c).where(Borrower.borrower_id.in_(borrower_ids)))
    return {row.borrower_id: _contact(vault, row) for row in rows}


def _contact(vault: ContactVault, row) -> Contact:
    return Contact(
        borrower_id=row.borrower_id,
        name=vault.open(row.name_enc) or "",
        phone=vault.open(row.phone_enc),
        email=vault.open(row.email_enc),
        locale=row.locale,
        timezone=row.timezone,
        region=row.region,
    )


async def loans_of(session: AsyncSession, loan_ids: set[str], now: datetime) -> dict[str, LoanState]:
    """Each loan's figures, cure and the end of its longest hold in force: one query for the batch."""
    held_until = (
        select(func.max(LoanHold.expires_at))
        .where(LoanHold.loan_id == Loan.loan_id, LoanHold.released_at.is_(None), LoanHold.expires_at > now)
        .scalar_subquery()
    )
    rows = await session.execute(select(*Loan.__table__.c, held_until.label("held_until")).where(Loan.loan_id.in_(loan_ids)))
    return {row.loan_id: _loan_state(row) for row in rows}


def _loan_state(row) -> LoanState:
    figures = LoanFigures(row.lender, row.currency, row.overdue_amount, row.days_past_due)
    clearance = Clearance(row.cleared_at, frozenset(row.cleared_cases or ())) if row.cleared_at else None
    return LoanState(figures, clearance, row.held_until)


async def place_hold(session: AsyncSession, hold: HoldPlaced) -> None:
    row = {"hold_id": hold.hold_id, "loan_id": hold.loan_id, "case_id": hold.case_id, "reason": hold.reason,
           "expires_at": hold.expires_at}
    # A release read before its placement (a replay) has already written the row: it stays released.
    await session.execute(insert(LoanHold).values(row).on_conflict_do_nothing(index_elements=[LoanHold.hold_id]))


async def release_hold(session: AsyncSession, release: HoldReleased) -> None:
    row = {"hold_id": release.hold_id, "loan_id": release.loan_id, "case_id": release.case_id,
           "reason": release.reason, "expires_at": release.occurred_at, "released_at": release.occurred_at}
    statement = insert(LoanHold).values(row)
    await session.execute(statement.on_conflict_do_update(index_elements=[LoanHold.hold_id], set_={"released_at": release.occurred_at}))


async def recheck_held(session: AsyncSession, loan_id: str, now: datetime) -> None:
    """After a hold ends early, the loan's reminders it deferred meet the guard again now."""
    await session.execute(
        update(Reminder)
        .where(Reminder.loan_id == loan_id, Reminder.status == PENDING, Reminder.reason == CASE_HOLD)
        .where(Reminder.next_attempt_at > now)
        .values(next_attempt_at=now)
    )


async def preferences_of(session: AsyncSession, borrower_ids: set[str]) -> dict[str, Preferences]:
    statement = select(*ContactPreferences.__table__.c).where(ContactPreferences.borrower_id.in_(borrower_ids))
    rows = await session.execute(statement)
    return {row.borrower_id: _preferences(row) for row in rows}


def _preferences(row) -> Preferences:
    hours = (row.contact_from, row.contact_until) if row.contact_from and row.contact_until else None
    return Preferences(frozenset(row.opted_out or ()), row.do_not_contact, row.hold_until, hours, row.preferred_channel)


async def recent_contacts(session: AsyncSession, borrower_ids: set[str], since: datetime) -> dict[str, list[PastContact]]:
    statement = select(ContactAttempt.borrower_id, ContactAttempt.channel, ContactAttempt.occurred_at, ContactAttempt.outcome)
    statement = statement.where(ContactAttempt.borrower_id.in_(borrower_ids), ContactAttempt.occurred_at >= since)
    found: dict[str, list[PastContact]] = {}
    for borrower_id, channel, occurred_at, outcome in await session.execute(statement):
        found.setdefault(borrower_id, []).append(PastContact(channel, occurred_at, outcome))
    # Agents' calls count too: the caps are the borrower's across the platform, not this service's.
    for borrower_id, contacts in (await agent_contacts(session, borrower_ids, since)).items():
        found.setdefault(borrower_id, []).extend(contacts)
    return found


async def pin_to_provider(session: AsyncSession, reminder_ids: list[str], provider: str, lease_until: datetime) -> set[str]:
    """Record that these reminders are about to go to `provider`, where this dispatcher still holds them;
    returns those. Once committed, a crash or a lost answer leaves each one pinned to that provider."""
    statement = (
        update(Reminder)
        .where(Reminder.reminder_id == any_(bindparam("ids", reminder_ids, type_=ARRAY(Text))))
        .where(Reminder.status == PENDING, Reminder.lease_until == lease_until)
        .values(pinned_provider=provider)
        .returning(Reminder.reminder_id)
    )
    result = await session.execute(statement, execution_options={"synchronize_session": False})
    return set(result.scalars())


class HeldReminder(SimpleNamespace):
    """A claimed reminder as plain data: the outcome recorder changes it, `save_held` writes it back."""


# What recording an outcome may change on a reminder.
RECORDED_COLUMNS = (
    "channel", "status", "reason", "attempts", "next_attempt_at", "lease_until", "provider", "provider_message_id",
    "pinned_provider", "sent_at", "updated_at",
)


async def still_held(session: AsyncSession, reminder_ids: list[str], lease_until: datetime) -> list[HeldReminder]:
    """The claimed reminders this dispatcher still holds, locked; one whose lease ran out is another's now."""
    statement = (
        select(*Reminder.__table__.c)
        .where(Reminder.reminder_id.in_(reminder_ids), Reminder.status == PENDING, Reminder.lease_until == lease_until)
        .with_for_update()
    )
    return [HeldReminder(**row._mapping) for row in await session.execute(statement)]


async def save_held(session: AsyncSession, reminders: list[HeldReminder]) -> None:
    """Write the recorded outcomes back: one statement, executed for every reminder of the batch."""
    if not reminders:
        return
    table = Reminder.__table__
    statement = update(table).where(table.c.reminder_id == bindparam("key"))
    statement = statement.values({column: bindparam(column) for column in RECORDED_COLUMNS})
    rows = [{"key": r.reminder_id, **{column: getattr(r, column) for column in RECORDED_COLUMNS}} for r in reminders]
    await session.execute(statement, rows)
