"""Loads and saves the loan files of a batch: a fixed handful of set-based statements per batch,
on the session's own connection and transaction, with arrays as parameters (unnest) so that a batch
of any size is one statement per table."""

import json
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from dunning_ingestion.adapters.rows import installment_rows, loan_arrays, loan_of
from dunning_ingestion.domain.ledger import Payment
from dunning_ingestion.domain.terms import ScheduledInstallment
from dunning_ingestion.loan_file import LoanFile, Parked

# Advisory locks in one order (by key) so that two batches sharing loans cannot deadlock. They cover
# loans not booked yet too: an event parked by one transaction must be seen by another's LoanBooked.
_LOCK = """
    SELECT count(pg_advisory_xact_lock(k))
    FROM (SELECT DISTINCT hashtext('loan:' || id) AS k FROM unnest($1::text[]) AS id ORDER BY 1) AS keys
"""
_LOANS = "SELECT * FROM loans WHERE loan_id = ANY($1::text[]) ORDER BY loan_id FOR UPDATE"
_SCHEDULES = """
    SELECT loan_id, seq, due_date, principal_due, interest_due, principal_paid, interest_paid, penalty_paid,
           penalty_accrued, accrued_through
    FROM installments WHERE loan_id = ANY($1::text[]) ORDER BY loan_id, seq
"""
_PAYMENTS = "SELECT loan_id, payment_id, amount, paid_at, paid_on FROM payments WHERE loan_id = ANY($1::text[])"
_PARKED = "SELECT loan_id, id, occurred_at, event::text AS event FROM parked_events WHERE loan_id = ANY($1::text[])"

_SAVE_LOANS = """
    INSERT INTO loans (loan_id, lender, product, currency, minor_digits, principal, booked_at, borrower_id, locale,
                       timezone, region, grace_days, penalty_rate_daily, waterfall, schedule_time, schedule_event_id,
                       closed_at, close_reason, as_of, days_past_due, overdue_since, overdue_amount, penalty_accrued,
                       penalty_outstanding, outstanding_balance, credit_balance, next_review_on, reported_overdue)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[],
                         $6::text[]::numeric[], $7::timestamptz[], $8::text[], $9::text[], $10::text[],
                         $11::text[], $12::int[], $13::text[]::numeric[], $14::text[], $15::timestamptz[],
                         $16::text[], $17::timestamptz[], $18::text[], $19::date[], $20::int[], $21::date[],
                         $22::text[]::numeric[], $23::text[]::numeric[], $24::text[]::numeric[],
                         $25::text[]::numeric[], $26::text[]::numeric[], $27::date[], $28::text[]::numeric[])
    ON CONFLICT (loan_id) DO UPDATE SET
        lender = excluded.lender, product = excluded.product, currency = excluded.currency,
        minor_digits = excluded.minor_digits, principal = excluded.principal, booked_at = excluded.booked_at,
        borrower_id = excluded.borrower_id, locale = excluded.locale, timezone = excluded.timezone,
        region = excluded.region, grace_days = excluded.grace_days, penalty_rate_daily = excluded.penalty_rate_daily,
        waterfall = excluded.waterfall, schedule_time = excluded.schedule_time,
        schedule_event_id = excluded.schedule_event_id, closed_at = excluded.closed_at,
        close_reason = excluded.close_reason, as_of = excluded.as_of, days_past_due = excluded.days_past_due,
        overdue_since = excluded.overdue_since, overdue_amount = excluded.overdue_amount,
        penalty_accrued = excluded.penalty_accrued, penalty_outstanding = excluded.penalty_outstanding,
        outstanding_balance = excluded.outstanding_balance, credit_balance = excluded.credit_balance,
        next_review_on = excluded.next_review_on, reported_overdue = excluded.reported_overdue, updated_at = now()
"""
# The positions of the numeric columns in the upserts below, sent as text (see _numeric_as_text).
_LOAN_NUMERICS = (5, 12, 21, 22, 23, 24, 25, 27)
_INSTALLMENT_NUMERICS = (3, 4, 5, 6, 7, 8)
_PAYMENT_NUMERICS = (2,)
_DROP_SCHEDULES = "DELETE FROM installments WHERE loan_id = ANY($1::text[])"
_SAVE_INSTALLMENTS = """
    INSERT INTO installments (loan_id, seq, due_date, principal_due, interest_due, principal_paid, interest_paid,
                              penalty_paid, penalty_accrued, accrued_through)
    SELECT * FROM unnest($1::text[], $2::int[], $3::date[], $4::text[]::numeric[], $5::text[]::numeric[],
                         $6::text[]::numeric[], $7::text[]::numeric[], $8::text[]::numeric[],
                         $9::text[]::numeric[], $10::date[])
    ON CONFLICT (loan_id, seq) DO UPDATE SET
        due_date = excluded.due_date, principal_due = excluded.principal_due, interest_due = excluded.interest_due,
        principal_paid = excluded.principal_paid, interest_paid = excluded.interest_paid,
        penalty_paid = excluded.penalty_paid, penalty_accrued = excluded.penalty_accrued,
        accrued_through = excluded.accrued_through
"""
_SAVE_PAYMENTS = """
    INSERT INTO payments (loan_id, payment_id, amount, currency, paid_at, paid_on, source, event_id)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[]::numeric[], $4::text[], $5::timestamptz[], $6::date[],
                         $7::text[], $8::text[])
    ON CONFLICT DO NOTHING
"""
_SAVE_FAILURES = """
    INSERT INTO repayment_failures (loan_id, seq, reason, failed_at, source, event_id)
    SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::text[])
"""
_PARK = """
    INSERT INTO parked_events (loan_id, event_type, occurred_at, event)
    SELECT loan_id, event_type, occurred_at, event::jsonb
    FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[]) AS p(loan_id, event_type, occurred_at, event)
"""
_UNPARK = "DELETE FROM parked_events WHERE loan_id = ANY($1::text[])"


class LedgerStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _driver(self):
        connection = await self.session.connection()
        return (await connection.get_raw_connection()).driver_connection

    async def load(self, loan_ids: list[str], *, parked_for: set[str]) -> dict[str, LoanFile]:
        """Lock and load these loans; the parked events of those in `parked_for` that are not booked yet."""
        db = await self._driver()
        await db.fetchval(_LOCK, loan_ids)
        rows = await db.fetch(_LOANS, loan_ids)
        installments = await db.fetch(_SCHEDULES, [r["loan_id"] for r in rows])
        schedules = _group(installments)
        files = {loan_id: LoanFile(loan_id) for loan_id in loan_ids}
        for row in rows:
            file = files[row["loan_id"]]
            file.loan, file.reported = loan_of(row, schedules.get(row["loan_id"], [])), row["reported_overdue"]
        for row in installments:
            files[row["loan_id"]].stored_installments[row["seq"]] = tuple(row)[1:]
        for row in await db.fetch(_PAYMENTS, [r["loan_id"] for r in rows]):
            files[row["loan_id"]].payments[row["payment_id"]] = Payment(
                row["payment_id"], row["amount"], row["paid_at"], row["paid_on"]
            )
        waiting = sorted(loan_id for loan_id in parked_for if files[loan_id].loan is None)
        if waiting:
            for row in await db.fetch(_PARKED, waiting):
                files[row["loan_id"]].parked.append(Parked(row["occurred_at"], row["id"], json.loads(row["event"])))
        return files

    async def save(self, files: Iterable[LoanFile]) -> None:
        files = list(files)
        db = await self._driver()
        changed = [f for f in files if f.changed]
        if changed:
            await db.execute(_SAVE_LOANS, *_numeric_as_text(loan_arrays(changed), _LOAN_NUMERICS))
            restructured = [f.loan_id for f in changed if f.restructured]
            if restructured:
                await db.execute(_DROP_SCHEDULES, restructured)
            await _insert(db, _SAVE_INSTALLMENTS, installment_rows(changed), numeric=_INSTALLMENT_NUMERICS)
        await _insert(db, _SAVE_PAYMENTS, _payment_rows(files), numeric=_PAYMENT_NUMERICS)
        await _insert(db, _SAVE_FAILURES, _failure_rows(files))
        await _insert(db, _PARK, _parked_rows(files))
        unparked = [f.loan_id for f in files if f.unparked]
        if unparked:
            await db.execute(_UNPARK, unparked)


def _group(rows) -> dict[str, list[ScheduledInstallment]]:
    grouped: dict[str, list[ScheduledInstallment]] = {}
    for row in rows:
        grouped.setdefault(row["loan_id"], []).append(
            ScheduledInstallment(row["seq"], row["due_date"], row["principal_due"], row["interest_due"])
        )
    return grouped


async def _insert(db, statement: str, rows: list[tuple], *, numeric: tuple[int, ...] = ()) -> None:
    if rows:
        await db.execute(statement, *_numeric_as_text([list(column) for column in zip(*rows)], numeric))


def _numeric_as_text(columns: list[list], numeric: tuple[int, ...]) -> list[list]:
    # asyncpg's binary numeric encoding costs twice formatting the amounts as text; PostgreSQL casts them.
    for index in numeric:
        columns[index] = [None if amount is None else format(amount, "f") for amount in columns[index]]
    return columns


def _payment_rows(files: list[LoanFile]) -> list[tuple]:
    return [
        (f.loan_id, p.payment.payment_id, p.payment.amount, p.currency, p.payment.paid_at, p.payment.paid_on, p.source, p.event_id)
        for f in files
        for p in f.new_payments
    ]


def _failure_rows(files: list[LoanFile]) -> list[tuple]:
    return [(f.loan_id, x.seq, x.reason, x.failed_at, x.source, x.event_id) for f in files for x in f.new_failures]


def _parked_rows(files: list[LoanFile]) -> list[tuple]:
    return [
        (f.loan_id, p.event["type"], p.occurred_at, json.dumps(p.event)) for f in files for p in f.new_parked
    ]
