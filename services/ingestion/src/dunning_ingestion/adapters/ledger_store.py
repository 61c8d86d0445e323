"""Loads and saves the loan files of a batch: a fixed handful of set-based statements per batch, on
the session's own connection and transaction, whatever the batch's size. Loads take arrays of loan ids;
the save is one statement whose parameters are JSON documents of rows, one per table."""

import json
from collections.abc import Iterable

from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_ingestion.adapters.rows import installment_rows, loan_of, loan_rows
from dunning_ingestion.domain.ledger import Payment
from dunning_ingestion.domain.terms import ScheduledInstallment
from dunning_ingestion.loan_file import LoanFile, Parked

# Advisory locks in one order (by key) so that two batches sharing loans cannot deadlock. They cover
# loans not booked yet too: an event parked by one transaction must be seen by another's LoanBooked.
# The loads that follow are planned for each batch (set_config's `true`: until the transaction ends): a
# prepared statement's generic plan, made on its first executions while `loans` held a few pages (a new
# deployment, a benchmark), read the whole table for each batch until autovacuum's next ANALYZE.
_LOCK = """
    SELECT count(pg_advisory_xact_lock(k)), set_config('plan_cache_mode', 'force_custom_plan', true)
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


def _rows_of(parameter: int, columns: str) -> str:
    """A SELECT of the rows of a JSON array of arrays (one text parameter), a cast per column. Text, not
    array parameters: asyncpg encoded arrays element by element, with several isinstance checks on each,
    which cost more than everything else the save did."""
    casts = ", ".join(f"(r->>{index})::{type_}" for index, type_ in enumerate(columns.split()))
    return f"SELECT {casts} FROM jsonb_array_elements(${parameter}::jsonb) AS r"


_SAVE_LOANS = f"""
    INSERT INTO loans (loan_id, lender, product, currency, minor_digits, principal, booked_at, borrower_id, locale,
                       timezone, region, grace_days, penalty_rate_daily, waterfall, schedule_time, schedule_event_id,
                       closed_at, close_reason, as_of, days_past_due, overdue_since, overdue_amount, penalty_accrued,
                       penalty_outstanding, outstanding_balance, credit_balance, next_review_on, reported_overdue)
    {_rows_of(1, "text text text text int numeric timestamptz text text text text int numeric text timestamptz "
              "text timestamptz text date int date numeric numeric numeric numeric numeric date numeric")}
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
_DROP_SCHEDULES = "DELETE FROM installments WHERE loan_id = ANY($1::text[])"
_SAVE_INSTALLMENTS = f"""
    INSERT INTO installments (loan_id, seq, due_date, principal_due, interest_due, principal_paid, interest_paid,
                              penalty_paid, penalty_accrued, accrued_through)
    {_rows_of(2, "text int date numeric numeric numeric numeric numeric numeric date")}
    ON CONFLICT (loan_id, seq) DO UPDATE SET
        due_date = excluded.due_date, principal_due = excluded.principal_due, interest_due = excluded.interest_due,
        principal_paid = excluded.principal_paid, interest_paid = excluded.interest_paid,
        penalty_paid = excluded.penalty_paid, penalty_accrued = excluded.penalty_accrued,
        accrued_through = excluded.accrued_through
"""
_SAVE_PAYMENTS = f"""
    INSERT INTO payments (loan_id, payment_id, amount, currency, paid_at, paid_on, source, event_id)
    {_rows_of(3, "text text numeric text timestamptz date text text")}
    ON CONFLICT DO NOTHING
"""
_SAVE_FAILURES = f"""
    INSERT INTO repayment_failures (loan_id, seq, reason, failed_at, source, event_id)
    {_rows_of(4, "text int text timestamptz text text")}
"""
_PARK = """
    INSERT INTO parked_events (loan_id, event_type, occurred_at, event)
    SELECT r->>0, r->>1, (r->>2)::timestamptz, r->3 FROM jsonb_array_elements($5::jsonb) AS r
"""
# Everything a batch writes in one statement, one round trip: the parts touch different tables and
# none reads what another writes (a restructuring's DELETE of a schedule goes first, on its own).
_SAVE = f"""
    WITH saved_loans AS ({_SAVE_LOANS}), saved_installments AS ({_SAVE_INSTALLMENTS}),
         saved_payments AS ({_SAVE_PAYMENTS}), saved_failures AS ({_SAVE_FAILURES})
    {_PARK}
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
        files = {loan_id: LoanFile(loan_id) for loan_id in loan_ids}
        if rows:  # a batch of loans booked just now has nothing more to read
            await _load_ledgers(db, files, rows)
        waiting = sorted(loan_id for loan_id in parked_for if files[loan_id].loan is None)
        if waiting:
            for row in await db.fetch(_PARKED, waiting):
                files[row["loan_id"]].parked.append(Parked(row["occurred_at"], row["id"], json.loads(row["event"])))
        return files

    async def save(self, files: Iterable[LoanFile]) -> None:
        files = list(files)
        db = await self._driver()
        changed = [f for f in files if f.changed]
        restructured = [f.loan_id for f in changed if f.restructured]
        if restructured:
            await db.execute(_DROP_SCHEDULES, restructured)
        rows = (
            loan_rows(changed), installment_rows(changed), _payment_rows(files), _failure_rows(files), _parked_rows(files)
        )
        # pydantic-core writes the JSON in C: money as its decimal string, times in ISO 8601 with their offset.
        await db.execute(_SAVE, *(to_json(part).decode() for part in rows))
        unparked = [f.loan_id for f in files if f.unparked]
        if unparked:
            await db.execute(_UNPARK, unparked)


async def _load_ledgers(db, files: dict[str, LoanFile], rows) -> None:
    """The stored loans, their installments and payments, into their files."""
    known = [r["loan_id"] for r in rows]
    installments = await db.fetch(_SCHEDULES, known)
    schedules = _group(installments)
    for row in rows:
        file = files[row["loan_id"]]
        file.loan, file.reported = loan_of(row, schedules.get(row["loan_id"], [])), row["reported_overdue"]
    for row in installments:
        files[row["loan_id"]].stored_installments[row["seq"]] = tuple(row)[1:]
    for row in await db.fetch(_PAYMENTS, known):
        files[row["loan_id"]].payments[row["payment_id"]] = Payment(
            row["payment_id"], row["amount"], row["paid_at"], row["paid_on"]
        )


def _group(rows) -> dict[str, list[ScheduledInstallment]]:
    grouped: dict[str, list[ScheduledInstallment]] = {}
    for row in rows:
        grouped.setdefault(row["loan_id"], []).append(
            ScheduledInstallment(row["seq"], row["due_date"], row["principal_due"], row["interest_due"])
        )
    return grouped


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
        (f.loan_id, p.event["type"], p.occurred_at, p.event) for f in files for p in f.new_parked
    ]
