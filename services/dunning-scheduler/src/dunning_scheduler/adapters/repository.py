"""Queries of the scheduler's tables; handlers and routes never write SQL themselves."""

import uuid
from collections import Counter
from datetime import datetime

from pydantic_core import to_json
from sqlalchemy import Text, cast, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_platform.db import written_out
from dunning_scheduler.adapters.arrays import among
from dunning_scheduler.adapters.firing_sql import driver_connection
from dunning_scheduler.adapters.orm import CASE_COLUMNS, AgentTask, Case, EarlyClearance, NewCase, HistoryEntry, Hold, LoanProfile, PolicyRow, Promise, Timer
from dunning_scheduler.domain.default_policy import DEFAULT_POLICY
from dunning_scheduler.domain.policy import Policy, VersionedPolicy

# Concurrent policy writes queue on this lock, so versions are given out one by one.
POLICY_LOCK = 0x706F6C69  # "poli"

# Validated policies by their stored text: a version never changes once written, and validating the
# document costs more than reading it, on every event. Keyed by the text, not the version alone, since
# one process may talk to several databases (tests).
_VALIDATED: dict[tuple[int, str], Policy] = {}


class PolicyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active(self) -> VersionedPolicy:
        row = await self._latest_text()
        if row is None:
            await self._seed_default()
            row = await self._latest_text()
        return VersionedPolicy(version=row[0], policy=validated(*row))

    async def activated_at(self, version: int) -> datetime | None:
        return await self.session.scalar(select(PolicyRow.created_at).where(PolicyRow.version == version))

    async def add(self, policy: Policy, *, at: datetime, by: str | None) -> int:
        await self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": POLICY_LOCK})
        version = (await self.session.scalar(select(func.max(PolicyRow.version))) or 0) + 1
        self.session.add(PolicyRow(version=version, document=policy.model_dump(mode="json"), created_at=at, created_by=by))
        await self.session.flush()
        return version

    async def _latest(self) -> PolicyRow | None:
        return await self.session.scalar(select(PolicyRow).order_by(PolicyRow.version.desc()).limit(1))

    async def _latest_text(self) -> tuple[int, str] | None:
        query = select(PolicyRow.version, cast(PolicyRow.document, Text)).order_by(PolicyRow.version.desc()).limit(1)
        row = (await self.session.execute(query)).first()
        return (row[0], row[1]) if row else None

    async def _seed_default(self) -> None:
        document = DEFAULT_POLICY.model_dump(mode="json")
        statement = insert(PolicyRow).values(version=1, document=document, created_at=func.now(), created_by="default")
        await self.session.execute(statement.on_conflict_do_nothing())


def validated(version: int, document: str) -> Policy:
    key = (version, document)
    if key not in _VALIDATED:
        if len(_VALIDATED) > 64:
            _VALIDATED.clear()
        _VALIDATED[key] = Policy.model_validate_json(document)
    return _VALIDATED[key]


class LoanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, loan_id: str, *, lock: bool = False) -> LoanProfile | None:
        return await self.session.get(LoanProfile, loan_id, with_for_update=lock)

    async def get_many(self, loan_ids: list[str]) -> dict[str, LoanProfile]:
        query = select(LoanProfile).where(among(LoanProfile.loan_id, loan_ids))
        return {profile.loan_id: profile for profile in await self.session.scalars(query)}

    async def save_many(self, rows: list[dict]) -> None:
        """Upsert profiles of distinct loans (one statement cannot touch a row twice), as one array per
        column: the same statement text for any number of loans, where a multi-row VALUES was compiled
        anew for each run."""
        columns = {name: [row[name] for row in rows] for name in PROFILE_COLUMNS}
        columns["due_dates"] = [json_text(dates) for dates in columns["due_dates"]]
        await self.session.execute(SAVE_PROFILES, columns)

    async def save(self, values: dict) -> None:
        statement = insert(LoanProfile).values(**values)
        changed = {k: statement.excluded[k] for k in values if k != "loan_id"}
        await self.session.execute(statement.on_conflict_do_update(index_elements=["loan_id"], set_=changed))


class CaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def unresolved_for_loan(self, loan_id: str) -> Case | None:
        # Written out: uq_cases_loan_unresolved holds only the unresolved cases (see `written_out`).
        query = select(Case).where(Case.loan_id == loan_id, Case.status != written_out("resolved")).with_for_update()
        return await self.session.scalar(query)

    async def unresolved_for_loans(self, loan_ids: list[str]) -> dict[str, Case]:
        query = select(Case).where(among(Case.loan_id, loan_ids), Case.status != written_out("resolved")).with_for_update()
        return {case.loan_id: case for case in await self.session.scalars(query)}

    async def past_of_loans(self, loan_ids: list[str]) -> dict[str, tuple[int, datetime | None]]:
        """Per loan with any case: how many cases it had, and when the latest was resolved."""
        query = (
            select(Case.loan_id, func.count(), func.max(Case.resolved_at))
            .where(among(Case.loan_id, loan_ids))
            .group_by(Case.loan_id)
        )
        return {loan_id: (count, latest) for loan_id, count, latest in await self.session.execute(query)}

    async def early_clearances(self, loan_ids: list[str]) -> dict[str, datetime]:
        query = select(EarlyClearance.loan_id, EarlyClearance.cleared_at).where(among(EarlyClearance.loan_id, loan_ids))
        return dict((await self.session.execute(query)).all())

    async def resolved_since(self, loan_id: str, at: datetime) -> bool:
        """Whether the loan was cleared at or after `at`: by a resolved case, or before any case existed."""
        query = select(Case.id).where(Case.loan_id == loan_id, Case.status == "resolved", Case.resolved_at >= at)
        if (await self.session.scalar(query.limit(1))) is not None:
            return True
        early = select(EarlyClearance.loan_id).where(EarlyClearance.loan_id == loan_id, EarlyClearance.cleared_at >= at)
        return (await self.session.scalar(early)) is not None

    async def remember_early_clearance(self, loan_id: str, cleared_at: datetime, reason: str) -> None:
        statement = insert(EarlyClearance).values(loan_id=loan_id, cleared_at=cleared_at, reason=reason)
        latest = {"cleared_at": func.greatest(EarlyClearance.cleared_at, statement.excluded.cleared_at)}
        await self.session.execute(statement.on_conflict_do_update(index_elements=["loan_id"], set_=latest))

    async def remember_early_clearances(self, rows: list[dict]) -> None:
        """remember_early_clearance for distinct loans in one statement (loan_id, cleared_at, reason)."""
        if rows:
            statement = insert(EarlyClearance).values(rows)
            latest = {"cleared_at": func.greatest(EarlyClearance.cleared_at, statement.excluded.cleared_at)}
            await self.session.execute(statement.on_conflict_do_update(index_elements=["loan_id"], set_=latest))

    async def get(self, case_id: uuid.UUID, *, lock: bool = False) -> Case | None:
        query = select(Case).where(Case.id == case_id)
        return await self.session.scalar(query.with_for_update() if lock else query)

    async def for_loan(self, loan_id: str) -> list[Case]:
        query = select(Case).where(Case.loan_id == loan_id).order_by(Case.opened_at.desc())
        return list(await self.session.scalars(query))

    def add(self, case: Case) -> None:
        self.session.add(case)

    async def history(self, case_id: uuid.UUID) -> list[HistoryEntry]:
        query = select(HistoryEntry).where(HistoryEntry.case_id == case_id).order_by(HistoryEntry.id)
        return list(await self.session.scalars(query))

    async def record(self, entries: list[dict]) -> None:
        if entries:
            await self.session.execute(insert(HistoryEntry), entries)


class TimerRepository:
    def __init__(self, session: AsyncSession, on_added=lambda: None, buffer: list[dict] | None = None) -> None:
        self.session = session
        self._on_added = on_added
        # A run of events gathers its new timers here; BulkWriter writes them all at once.
        self._buffer = buffer

    async def add(self, rows: list[dict]) -> None:
        if rows and self._buffer is not None:
            self._buffer.extend(rows)
        elif rows:
            await self.session.execute(insert(Timer), rows)
            self._on_added()

    async def cancel_for_case(self, case_id: uuid.UUID, reason: str) -> int:
        pending = (Timer.case_id == case_id) & (Timer.status == "pending")
        return await self._cancel(pending, reason)

    async def cancel_for_cases(self, reasons: dict[uuid.UUID, str]) -> Counter[uuid.UUID]:
        """cancel_for_case for many cases in one statement, each with its own reason: how many per case."""
        if not reasons:
            return Counter()
        values = {"ids": list(reasons), "reasons": list(reasons.values())}
        return Counter((await self.session.execute(CANCEL_FOR_CASES, values)).scalars())

    async def cancel_pre_due(self, loan_id: str, reason: str) -> int:
        return (await self.session.execute(CANCEL_PRE_DUE, {"loan_ids": [loan_id], "reason": reason})).rowcount

    async def _cancel(self, condition, reason: str) -> int:
        statement = update(Timer).where(condition).values(status="cancelled", cancelled_reason=reason)
        return (await self.session.execute(statement)).rowcount

    async def set_locales(self, locales: dict[uuid.UUID, str]) -> Counter[uuid.UUID]:
        """Each case's pending timers in its borrower's locale (payload and stored event): how many per case."""
        if not locales:
            return Counter()
        values = {"ids": list(locales), "locales": list(locales.values())}
        return Counter((await self.session.execute(SET_LOCALES, values)).scalars())

    async def pending_for_case(self, case_id: uuid.UUID) -> list[Timer]:
        query = select(Timer).where(Timer.case_id == case_id, Timer.status == "pending").order_by(Timer.due_at, Timer.id)
        return list(await self.session.scalars(query))

    async def fired_for_case(self, case_id: uuid.UUID) -> list[Timer]:
        query = select(Timer).where(Timer.case_id == case_id, Timer.status == "fired").order_by(Timer.fired_at, Timer.id)
        return list(await self.session.scalars(query))

    async def next_due(self, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
        query = (
            select(Timer.case_id, func.min(Timer.due_at))
            .where(among(Timer.case_id, case_ids), Timer.status == "pending")
            .group_by(Timer.case_id)
        )
        return dict((await self.session.execute(query)).all())

    async def cancel_pre_due_of_loans(self, loan_ids: list[str], reason: str) -> None:
        # No timer is loaded as an object where whole waves are handled: nothing in the session to update.
        if loan_ids:
            await self.session.execute(CANCEL_PRE_DUE, {"loan_ids": loan_ids, "reason": reason})

    async def reminders_sent_to_cases(self, case_ids: list[uuid.UUID], since: datetime) -> dict[uuid.UUID, list[datetime]]:
        """reminders_sent_since for many cases in one query; every case has an entry."""
        sent: dict[uuid.UUID, list[datetime]] = {case_id: [] for case_id in case_ids}
        if not case_ids:
            return sent
        query = select(Timer.case_id, Timer.payload["not_before"].astext).where(
            among(Timer.case_id, case_ids), Timer.status == "fired", Timer.kind == "reminder", Timer.fired_at >= since
        )
        for case_id, not_before in await self.session.execute(query):
            sent[case_id].append(datetime.fromisoformat(not_before))
        return sent

    async def reminders_sent_since(self, case_id: uuid.UUID, since: datetime) -> list[datetime]:
        """When the case's fired reminders were due to reach the borrower (for the caps)."""
        query = select(Timer.payload["not_before"].astext).where(
            Timer.case_id == case_id, Timer.status == "fired", Timer.kind == "reminder", Timer.fired_at >= since
        )
        return [datetime.fromisoformat(value) for value in await self.session.scalars(query)]


class PromiseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, promise: Promise) -> None:
        self.session.add(promise)

    async def pending(self, case_id: uuid.UUID) -> list[Promise]:
        query = select(Promise).where(Promise.case_id == case_id, Promise.status == "pending")
        return list(await self.session.scalars(query.order_by(Promise.promised_date)))

    async def pending_of_cases(self, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Promise]]:
        """pending for many cases in one query; cases without any are left out."""
        query = select(Promise).where(among(Promise.case_id, case_ids), Promise.status == "pending")
        return grouped(await self.session.scalars(query.order_by(Promise.promised_date)) if case_ids else [])

    async def for_case(self, case_id: uuid.UUID) -> list[Promise]:
        query = select(Promise).where(Promise.case_id == case_id).order_by(Promise.created_at)
        return list(await self.session.scalars(query))


class HoldRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, hold: Hold) -> None:
        self.session.add(hold)

    async def active(self, case_id: uuid.UUID) -> list[Hold]:
        query = select(Hold).where(Hold.case_id == case_id, Hold.released_at.is_(None))
        return list(await self.session.scalars(query.order_by(Hold.expires_at)))

    async def active_of_cases(self, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Hold]]:
        query = select(Hold).where(among(Hold.case_id, case_ids), Hold.released_at.is_(None))
        return grouped(await self.session.scalars(query.order_by(Hold.expires_at)) if case_ids else [])

    async def for_case(self, case_id: uuid.UUID) -> list[Hold]:
        query = select(Hold).where(Hold.case_id == case_id).order_by(Hold.created_at)
        return list(await self.session.scalars(query))


class AgentTaskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def queue(self, kind: str | None, limit: int) -> list[AgentTask]:
        """Queued tasks, highest risk first, then the larger overdue amount, then the oldest."""
        query = select(AgentTask).where(AgentTask.status == "queued")
        query = query.where(AgentTask.kind == kind) if kind else query
        order = (AgentTask.risk_points.desc(), AgentTask.overdue_amount.desc(), AgentTask.created_at)
        return list(await self.session.scalars(query.order_by(*order).limit(limit)))

    async def get(self, task_id: uuid.UUID, *, lock: bool = False) -> AgentTask | None:
        query = select(AgentTask).where(AgentTask.id == task_id)
        return await self.session.scalar(query.with_for_update() if lock else query)

    async def cancel_open(self, case_id: uuid.UUID, now: datetime) -> None:
        statement = (
            update(AgentTask)
            .where(AgentTask.case_id == case_id, AgentTask.status.in_(("queued", "claimed")))
            .values(status="cancelled", completed_at=now)
        )
        await self.session.execute(statement)

    async def cancel_open_of_cases(self, case_ids: list[uuid.UUID], now: datetime) -> None:
        statement = (
            update(AgentTask)
            .where(among(AgentTask.case_id, case_ids), AgentTask.status.in_(("queued", "claimed")))
            .values(status="cancelled", completed_at=now)
            .execution_options(synchronize_session=False)
        )
        if case_ids:
            await self.session.execute(statement)


def grouped(rows) -> dict[uuid.UUID, list]:
    """Rows by their case, each case's in the order of the query."""
    by_case: dict[uuid.UUID, list] = {}
    for row in rows:
        by_case.setdefault(row.case_id, []).append(row)
    return by_case


class TimerClaims:
    """The timer loop's queries: safe with several replicas, since a claimed row is skipped by the others."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def due_checkpoints(self, now: datetime, limit: int, kinds: tuple[str, ...]) -> list:
        query = (
            select(Timer.id, Timer.case_id, Timer.loan_id)
            # 'pending' written out (see cancel_pre_due_of_loans): bound, a generic plan could not use
            # ix_timers_due and would read and sort the whole table every round.
            .where(Timer.status == written_out("pending"), Timer.due_at <= now, Timer.kind.in_(kinds))
            .order_by(Timer.due_at)
            .limit(limit)
        )
        return list((await self.session.execute(query)).all())

    async def claim_one(self, timer_id: int, now: datetime) -> str | None:
        """The timer's kind when this call fired it; None when another replica (or a cancel) came first."""
        statement = (
            update(Timer)
            .where(Timer.id == timer_id, Timer.status == "pending")
            .values(status="fired", fired_at=now)
            .returning(Timer.kind)
            .execution_options(synchronize_session=False)
        )
        return await self.session.scalar(statement)


JSON_CASE_COLUMNS = {"risk_factors", "contact_outcomes"}
HISTORY_COLUMNS = ("case_id", "at", "kind", "stage", "policy_version", "reason", "details")
PROFILE_COLUMNS = ("loan_id", "borrower_id", "lender", "locale", "timezone", "region", "due_dates", "booked_at")
SAVE_PROFILES = text("""
    INSERT INTO loans (loan_id, borrower_id, lender, locale, timezone, region, due_dates, booked_at)
    SELECT * FROM unnest(
        CAST(:loan_id AS text[]), CAST(:borrower_id AS text[]), CAST(:lender AS text[]), CAST(:locale AS text[]),
        CAST(:timezone AS text[]), CAST(:region AS text[]), CAST(:due_dates AS jsonb[]), CAST(:booked_at AS timestamptz[])
    )
    ON CONFLICT (loan_id) DO UPDATE SET
        borrower_id = excluded.borrower_id, lender = excluded.lender, locale = excluded.locale,
        timezone = excluded.timezone, region = excluded.region, due_dates = excluded.due_dates,
        booked_at = excluded.booked_at
""")
# Pending timers of many cases cancelled at once, each case with its own reason; one row back per timer.
CANCEL_FOR_CASES = text("""
    UPDATE timers AS t SET status = 'cancelled', cancelled_reason = v.reason
    FROM unnest(CAST(:ids AS uuid[]), CAST(:reasons AS text[])) AS v(case_id, reason)
    WHERE t.case_id = v.case_id AND t.status = 'pending'
    RETURNING t.case_id
""")
# The pending pre-due timers of some loans, looked up loan by loan in ix_timers_loan_pending: `OFFSET 0`
# keeps the lateral subquery from being flattened into one scan. As one scan, every loan's pending
# pre-due timers match a single condition of ix_timers_case (case_id IS NULL, status 'pending'), and
# with statistics taken before a burst of bookings the planner read all of them (and their dead
# entries) for each wave: 60 ms a wave in the benchmark's pipeline, a scan of every performing loan's
# reminders in production.
CANCEL_PRE_DUE = text("""
    UPDATE timers SET status = 'cancelled', cancelled_reason = :reason
    WHERE id IN (
        SELECT pre_due.id
        FROM unnest(CAST(:loan_ids AS text[])) AS loan(loan_id)
        CROSS JOIN LATERAL (
            SELECT t.id FROM timers AS t
            WHERE t.loan_id = loan.loan_id AND t.status = 'pending' AND t.case_id IS NULL
            OFFSET 0
        ) AS pre_due
    )
""")
# The locale of many cases' pending timers, each case its own; one row back per timer. (The event text
# is that of timers planned when a reminder's event was written with its timer; see firing_sql.)
SET_LOCALES = text("""
    UPDATE timers AS t
    SET payload = t.payload || jsonb_build_object('locale', v.locale),
        event = CAST(jsonb_set(CAST(t.event AS jsonb), '{locale}', to_jsonb(v.locale)) AS text)
    FROM unnest(CAST(:ids AS uuid[]), CAST(:locales AS text[])) AS v(case_id, locale)
    WHERE t.case_id = v.case_id AND t.status = 'pending'
    RETURNING t.case_id
""")
# Pending timers get their reminder id from the column's default; those fired as they were planned
# (at_once) already have theirs, in the events they sent.
PENDING_TIMER_COLUMNS = ("case_id", "loan_id", "kind", "due_at", "payload", "created_at")
FIRED_TIMER_COLUMNS = PENDING_TIMER_COLUMNS + ("reminder_id", "status", "fired_at")


class BulkWriter:
    """A run's new rows by COPY, on the session's own connection and inside its transaction: one
    statement per table however many cases the run opened. JSON columns go as text (the driver
    connection's jsonb codec takes text)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def cases(self, cases: list[NewCase]) -> None:
        records = [tuple(_column(case, name) for name in CASE_COLUMNS) for case in cases]
        await self._copy("cases", CASE_COLUMNS, records)

    async def history(self, entries: list[dict]) -> None:
        records = [tuple(json_text(e[n]) if n == "details" else e[n] for n in HISTORY_COLUMNS) for e in entries]
        await self._copy("case_history", HISTORY_COLUMNS, records)

    async def timers(self, rows: list[dict]) -> None:
        pending = [timer_record(row) for row in rows if "reminder_id" not in row]
        fired = [timer_record(row) + (row["reminder_id"], row["status"], row["fired_at"]) for row in rows if "reminder_id" in row]
        await self._copy("timers", PENDING_TIMER_COLUMNS, pending)
        await self._copy("timers", FIRED_TIMER_COLUMNS, fired)

    async def _copy(self, table: str, columns: tuple[str, ...], records: list[tuple]) -> None:
        if records:
            connection = await driver_connection(self.session)
            await connection.copy_records_to_table(table, records=records, columns=columns)


def timer_record(row: dict) -> tuple:
    """PENDING_TIMER_COLUMNS of a planned timer."""
    return row["case_id"], row["loan_id"], row["kind"], row["due_at"], json_text(row["payload"]), row["created_at"]


def _column(case: NewCase, name: str):
    value = getattr(case, name)
    return json_text(value) if name in JSON_CASE_COLUMNS else value


def json_text(value) -> str:
    # pydantic-core's encoder: the same JSON as json.dumps for these plain values, several times faster.
    return to_json(value).decode()
