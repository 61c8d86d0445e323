"""Every query of the notification schema."""

from datetime import datetime
from types import SimpleNamespace

from pydantic_core import to_json
from sqlalchemy import Integer, Row, Text, any_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_contracts.events import Borrower as BorrowerData
from dunning_contracts.events import HoldPlaced, HoldReleased, LoanBooked, LoanOverdue, ReminderRequested
from dunning_notification.adapters.agent_contacts import agent_contacts
from dunning_notification.adapters.orm import Aware, Borrower, ContactAttempt, ContactPreferences, Loan, LoanHold, Reminder
from dunning_notification.adapters.vault import ContactVault
from dunning_notification.domain.contact import Contact
from dunning_notification.domain.guard import CASE_HOLD, Preferences
from dunning_notification.domain.history import PastContact
from dunning_notification.domain.reminders import CASELESS, PENDING, Clearance, LoanFigures, LoanState
from dunning_platform.db import written_out

# The statements a dispatch round runs are built once, on the tables rather than the mapped classes: they
# come back as plain rows, and an id list is one array parameter, not one bound value per id to render.
_reminders = Reminder.__table__


async def upsert_borrowers(session: AsyncSession, vault: ContactVault, borrowers: list[BorrowerData], now: datetime) -> None:
    """The contact book, in one statement: the last word on each borrower wins."""
    rows = {b.borrower_id: _borrower_row(vault, b, now) for b in borrowers}
    await session.execute(UPSERT_BORROWERS, {"rows": as_json(list(rows.values()))})


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


# Sealed tokens are ASCII (adapters/vault.py): they travel in the JSON as text and are stored as the same bytes.
UPSERT_BORROWERS = text(
    "INSERT INTO notification.borrowers (borrower_id, name_enc, phone_enc, email_enc, locale, timezone, region,"
    " updated_at) SELECT borrower_id, convert_to(name_enc, 'UTF8'), convert_to(phone_enc, 'UTF8'),"
    " convert_to(email_enc, 'UTF8'), locale, timezone, region, updated_at"
    " FROM json_to_recordset(CAST(:rows AS text)::json) AS u(borrower_id text, name_enc text, phone_enc text,"
    " email_enc text, locale text, timezone text, region text, updated_at timestamptz)"
    " ON CONFLICT (borrower_id) DO UPDATE SET "
    + ", ".join(f"{column} = excluded.{column}" for column in BORROWER_COLUMNS)
)


async def upsert_booked_loans(session: AsyncSession, loans: list[LoanBooked]) -> None:
    rows = {loan.loan_id: _booked_loan_row(loan) for loan in loans}
    await session.execute(UPSERT_BOOKED_LOANS, {"rows": as_json(list(rows.values()))})


def _booked_loan_row(loan: LoanBooked) -> dict:
    return {"loan_id": loan.loan_id, "borrower_id": loan.borrower.borrower_id, "lender": loan.lender, "currency": loan.currency}


UPSERT_BOOKED_LOANS = text(
    "INSERT INTO notification.loans (loan_id, borrower_id, lender, currency) SELECT loan_id, borrower_id, lender,"
    " currency FROM json_to_recordset(CAST(:rows AS text)::json) AS u(loan_id text, borrower_id text, lender text,"
    " currency text) ON CONFLICT (loan_id) DO UPDATE SET borrower_id = excluded.borrower_id, lender = excluded.lender,"
    " currency = excluded.currency"
)


async def record_overdue_figures(session: AsyncSession, overdues: list[LoanOverdue]) -> None:
    """A run of overdue figures in one statement. Only newer figures win, as if applied one by one: an
    older LoanOverdue delivered late must not reopen a cleared loan, and of a loan's figures in the run the
    latest `as_of` is the one kept (the first of equals, which a second one would not have replaced)."""
    latest: dict[str, LoanOverdue] = {}
    for overdue in overdues:
        kept = latest.get(overdue.loan_id)
        if kept is None or kept.as_of < overdue.as_of:
            latest[overdue.loan_id] = overdue
    rows = [{name: getattr(overdue, name) for name in OVERDUE_COLUMNS} for overdue in latest.values()]
    await session.execute(RECORD_OVERDUE, {"rows": as_json(rows)})


OVERDUE_COLUMNS = ("loan_id", "borrower_id", "lender", "currency", "overdue_amount", "days_past_due", "as_of")
# One statement text whatever the run's size; ON CONFLICT cannot touch a row twice, hence one row per loan.
RECORD_OVERDUE = text(
    "INSERT INTO notification.loans AS l (loan_id, borrower_id, lender, currency, overdue_amount, days_past_due,"
    " figures_as_of, cleared_at, cleared_cases)"
    " SELECT loan_id, borrower_id, lender, currency, overdue_amount, days_past_due, as_of, NULL, NULL"
    " FROM json_to_recordset(CAST(:rows AS text)::json) AS u(loan_id text, borrower_id text, lender text,"
    " currency text, overdue_amount numeric, days_past_due integer, as_of timestamptz)"
    " ON CONFLICT (loan_id) DO UPDATE SET borrower_id = excluded.borrower_id, lender = excluded.lender,"
    " currency = excluded.currency, overdue_amount = excluded.overdue_amount, days_past_due = excluded.days_past_due,"
    " figures_as_of = excluded.figures_as_of, cleared_at = NULL, cleared_cases = NULL"
    " WHERE l.figures_as_of IS NULL OR l.figures_as_of < excluded.figures_as_of"
)


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
    rows = [{name: getattr(request, name) for name in REQUESTED_COLUMNS} for request in requests]
    result = await session.execute(ADD_REMINDERS, {"rows": as_json(rows), "pending": PENDING, "now": now})
    return len(result.all())


def as_json(rows: list[dict]) -> str:
    """Rows as ONE JSON text parameter, written in C (datetimes in ISO 8601, which PostgreSQL reads back
    exactly): asyncpg checks each element of an array parameter against Python's abstract collection
    types before encoding it, and a batch's columns are thousands of elements. Read in SQL with
    `json_to_recordset(CAST(:rows AS text)::json)`."""
    return to_json(rows).decode()


REQUESTED_COLUMNS = (
    "reminder_id", "case_id", "loan_id", "borrower_id", "channel", "template", "locale", "stage", "not_before", "expires_at"
)
# One statement text whatever the batch size: one statement to prepare, no row-by-row binding.
ADD_REMINDERS = text(
    "INSERT INTO notification.reminders (reminder_id, case_id, loan_id, borrower_id, channel, template, locale,"
    " stage, not_before, expires_at, status, attempts, next_attempt_at, requested_at, updated_at)"
    " SELECT reminder_id, case_id, loan_id, borrower_id, channel, template, locale, stage, not_before, expires_at,"
    " CAST(:pending AS text), 0, not_before, CAST(:now AS timestamptz), CAST(:now AS timestamptz)"
    " FROM json_to_recordset(CAST(:rows AS text)::json) AS u(reminder_id text, case_id text, loan_id text,"
    " borrower_id text, channel text, template text, locale text, stage text, not_before timestamptz,"
    " expires_at timestamptz)"
    " ON CONFLICT DO NOTHING RETURNING reminder_id"
)


# A claimed reminder as the claim returned it: a row of the reminders table, read and never written back.
ClaimedReminder = Row


async def claim_due(session: AsyncSession, now: datetime, limit: int, lease_until: datetime) -> list[ClaimedReminder]:
    """Take due reminders for this dispatcher; SKIP LOCKED lets replicas claim disjoint sets.

    A borrower with a reminder in flight at another dispatcher is left out, so that the day's caps are
    counted by one dispatcher at a time for each borrower. The statement's shape keeps it linear whatever
    the planner believes of a freshly filled table: the borrowers in flight are read once (a hashed
    NOT IN), and the claimed ids are updated by primary key (= ANY of an array). The reminders come back
    as plain rows: the dispatcher only reads them (no ORM instances to build and track)."""
    await session.execute(PLANNED_FOR_EACH_CLAIM)
    return list(await session.execute(CLAIM_DUE, {"now": now, "limit": limit, "lease": lease_until}))


# A prepared statement's generic plan is made on its first executions and kept until the next ANALYZE
# of its tables: made while `reminders` held a few pages (a new deployment, a benchmark), it updated the
# claimed rows by a sequential scan of the whole table for the minute autovacuum took to analyse it (up
# to 471 ms a claim). Planned for each call from the table's present size instead; the claim's own
# transaction holds nothing else, and a plan costs little beside a claim of hundreds of rows. Without
# bitmap scans the due reminders are read in order from ix_reminders_due and the read stops at the
# batch's size: statistics that believe few are due chose a bitmap of every due reminder (28,528 index
# entries for a claim of 500 in the benchmark's backlog) and a sort, a cost that grows with the backlog.
PLANNED_FOR_EACH_CLAIM = text(
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('enable_bitmapscan', 'off', true)"
)


def _claim_statement():
    reminders, in_flight = Reminder.__table__, Reminder.__table__.alias("in_flight")
    now = bindparam("now", type_=Aware)
    busy = select(in_flight.c.borrower_id).where(
        in_flight.c.status == written_out(PENDING), in_flight.c.lease_until.is_not(None), in_flight.c.lease_until > now
    )
    due = (
        select(reminders.c.reminder_id)
        .where(reminders.c.status == written_out(PENDING), reminders.c.next_attempt_at <= now)
        .where(reminders.c.lease_until.is_(None) | (reminders.c.lease_until <= now))
        .where(reminders.c.borrower_id.not_in(busy))
        .order_by(reminders.c.next_attempt_at)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True)
    )
    return (
        update(reminders)
        .where(reminders.c.reminder_id == any_(func.array(due.scalar_subquery())))
        .values(lease_until=bindparam("lease", type_=Aware))
        .returning(*reminders.c)
    )


CLAIM_DUE = _claim_statement()


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
    """Contact history lines in one statement, the rows as one JSON parameter (see `as_json`)."""
    if rows:
        await session.execute(ADD_ATTEMPTS, {"rows": as_json(rows)})


ADD_ATTEMPTS = text(
    "INSERT INTO notification.contact_attempts (reminder_id, loan_id, borrower_id, channel, occurred_at, outcome,"
    " reason, provider, provider_message_id, retain_until) SELECT reminder_id, loan_id, borrower_id, channel,"
    " occurred_at, outcome, reason, provider, provider_message_id, retain_until"
    " FROM json_to_recordset(CAST(:rows AS text)::json) AS u(reminder_id text, loan_id text, borrower_id text,"
    " channel text, occurred_at timestamptz, outcome text, reason text, provider text, provider_message_id text,"
    " retain_until timestamptz)"
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
        .where(Reminder.borrower_id == borrower_id, Reminder.status == written_out(PENDING), Reminder.next_attempt_at > now)
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
    """Each borrower's contact, its name, phone and e-mail decrypted only when read (see `Contact`).
    Plain rows, not ORM instances: read once per batch and never written back, so no identity map to fill."""
    rows = await session.execute(CONTACTS_OF, {"ids": list(borrower_ids)})
    return {row.borrower_id: _contact(vault, row) for row in rows}


_borrowers = Borrower.__table__
CONTACTS_OF = select(*_borrowers.c).where(_borrowers.c.borrower_id == any_(bindparam("ids", type_=ARRAY(Text))))


def _contact(vault: ContactVault, row) -> Contact:
    return Contact(
        row.borrower_id, row.name_enc, row.phone_enc, row.email_enc, row.locale, row.timezone, row.region, reveal=vault.open
    )


async def loans_of(session: AsyncSession, loan_ids: set[str], now: datetime) -> dict[str, LoanState]:
    """Each loan's figures, cure and the end of its longest hold in force: one query for the batch."""
    rows = await session.execute(LOANS_OF, {"ids": list(loan_ids), "now": now})
    return {row.loan_id: _loan_state(row) for row in rows}


def _loans_statement():
    loans, holds = Loan.__table__, LoanHold.__table__
    held_until = (
        select(func.max(holds.c.expires_at))
        .where(holds.c.loan_id == loans.c.loan_id, holds.c.released_at.is_(None))
        .where(holds.c.expires_at > bindparam("now", type_=Aware))
        .scalar_subquery()
    )
    ids = bindparam("ids", type_=ARRAY(Text))
    return select(*loans.c, held_until.label("held_until")).where(loans.c.loan_id == any_(ids))


LOANS_OF = _loans_statement()


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
    rows = await session.execute(PREFERENCES_OF, {"ids": list(borrower_ids)})
    return {row.borrower_id: _preferences(row) for row in rows}


_preferences_table = ContactPreferences.__table__
PREFERENCES_OF = select(*_preferences_table.c).where(
    _preferences_table.c.borrower_id == any_(bindparam("ids", type_=ARRAY(Text)))
)


def _preferences(row) -> Preferences:
    hours = (row.contact_from, row.contact_until) if row.contact_from and row.contact_until else None
    return Preferences(frozenset(row.opted_out or ()), row.do_not_contact, row.hold_until, hours, row.preferred_channel)


async def recent_contacts(session: AsyncSession, borrower_ids: set[str], since: datetime) -> dict[str, list[PastContact]]:
    found: dict[str, list[PastContact]] = {}
    rows = await session.execute(RECENT_CONTACTS, {"ids": list(borrower_ids), "since": since})
    for borrower_id, channel, occurred_at, outcome in rows:
        found.setdefault(borrower_id, []).append(PastContact(channel, occurred_at, outcome))
    # Agents' calls count too: the caps are the borrower's across the platform, not this service's.
    for borrower_id, contacts in (await agent_contacts(session, borrower_ids, since)).items():
        found.setdefault(borrower_id, []).extend(contacts)
    return found


_attempts = ContactAttempt.__table__
RECENT_CONTACTS = select(_attempts.c.borrower_id, _attempts.c.channel, _attempts.c.occurred_at, _attempts.c.outcome).where(
    _attempts.c.borrower_id == any_(bindparam("ids", type_=ARRAY(Text))),
    _attempts.c.occurred_at >= bindparam("since", type_=Aware),
)


async def pin_to_provider(session: AsyncSession, reminder_ids: list[str], provider: str, lease_until: datetime) -> set[str]:
    """Record that these reminders are about to go to `provider`, where this dispatcher still holds them;
    returns those. Once committed, a crash or a lost answer leaves each one pinned to that provider."""
    values = {"ids": reminder_ids, "to_provider": provider, "pending": PENDING, "lease": lease_until}
    return set((await session.execute(PIN_TO_PROVIDER, values)).scalars())


PIN_TO_PROVIDER = (
    update(_reminders)
    .where(_reminders.c.reminder_id == any_(bindparam("ids", type_=ARRAY(Text))))
    .where(_reminders.c.status == bindparam("pending"), _reminders.c.lease_until == bindparam("lease", type_=Aware))
    .values(pinned_provider=bindparam("to_provider"))
    .returning(_reminders.c.reminder_id)
)


class HeldReminder(SimpleNamespace):
    """A claimed reminder as plain data: the outcome recorder changes it, `save_held` writes it back."""


# What recording an outcome may change on a reminder.
RECORDED_COLUMNS = (
    "channel", "status", "reason", "attempts", "next_attempt_at", "lease_until", "provider", "provider_message_id",
    "pinned_provider", "sent_at", "updated_at",
)


async def still_held(session: AsyncSession, reminder_ids: list[str], lease_until: datetime) -> list[HeldReminder]:
    """The claimed reminders this dispatcher still holds, locked; one whose lease ran out is another's now."""
    rows = await session.execute(STILL_HELD, {"ids": reminder_ids, "pending": PENDING, "lease_until": lease_until})
    return [HeldReminder(**row._mapping) for row in rows]


STILL_HELD = (
    select(*_reminders.c)
    .where(_reminders.c.reminder_id == any_(bindparam("ids", type_=ARRAY(Text))))
    .where(_reminders.c.status == bindparam("pending"), _reminders.c.lease_until == bindparam("lease_until", type_=Aware))
    .with_for_update()
)


async def save_held(session: AsyncSession, reminders: list[HeldReminder]) -> None:
    """Write the recorded outcomes back: one statement, the rows as one JSON parameter (see `as_json`)."""
    if reminders:
        rows = [{"key": r.reminder_id, **{column: getattr(r, column) for column in RECORDED_COLUMNS}} for r in reminders]
        await session.execute(SAVE_HELD, {"rows": as_json(rows)})


SAVE_HELD = text(
    "UPDATE notification.reminders AS r SET channel = u.channel, status = u.status, reason = u.reason,"
    " attempts = u.attempts, next_attempt_at = u.next_attempt_at, lease_until = u.lease_until, provider = u.provider,"
    " provider_message_id = u.provider_message_id, pinned_provider = u.pinned_provider, sent_at = u.sent_at,"
    " updated_at = u.updated_at FROM json_to_recordset(CAST(:rows AS text)::json) AS u(key text, channel text,"
    " status text, reason text, attempts integer, next_attempt_at timestamptz, lease_until timestamptz, provider text,"
    " provider_message_id text, pinned_provider text, sent_at timestamptz, updated_at timestamptz)"
    " WHERE r.reminder_id = u.key"
)
