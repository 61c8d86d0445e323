"""The daily aging sweep: penalty and days past due move with the calendar, not only with events.

Loans are aged in chunks, each its own transaction holding the chunk's loan rows, so the sweep never
blocks the consumers for long and a deadlock with them costs one chunk's retry, not the whole run."""

import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError

from dunning_ingestion.adapters import aging as sql
from dunning_ingestion.adapters.orm import AgingSweepRow
from dunning_ingestion.outbound import overdue_data, publish_cleared, publish_overdue

log = logging.getLogger(__name__)

CHUNK = 5000
ATTEMPTS = 3


@dataclass(frozen=True)
class SweepResult:
    run_on: date
    loans_aged: int
    notices: int


async def run_aging_sweep(runtime, *, chunk: int = CHUNK) -> SweepResult:
    now = runtime.clock.now()
    run_on = sweep_day(now, runtime.settings.aging_sweep_timezone)
    async with runtime.uow() as uow:
        await _diary_start(uow, run_on, now)
        loan_ids = await sql.candidates(uow.session, now)
        await uow.commit()
    notices = 0
    for start in range(0, len(loan_ids), chunk):
        notices += await _age_chunk(runtime, loan_ids[start : start + chunk], now)
    result = SweepResult(run_on, len(loan_ids), notices)
    await _diary_finish(runtime, result)
    log.info("aging sweep of %s: %s loans visited, %s notices", run_on, len(loan_ids), notices)
    return result


async def _age_chunk(runtime, loan_ids: list[str], now: datetime) -> int:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with runtime.uow() as uow:
                rows = await sql.age(uow.session, loan_ids, now)
                for row in rows:
                    _announce(uow, row, now)
                await uow.commit()
                return len(rows)
        except DBAPIError as error:
            # A consumer may hold some of these loans in the opposite order; PostgreSQL breaks the tie.
            if "deadlock" not in str(error) or attempt == ATTEMPTS:
                raise
            log.warning("aging chunk deadlocked (attempt %s); retrying", attempt)
    return 0


def _announce(uow, row, now: datetime) -> None:
    if row.overdue_amount > 0:
        publish_overdue(uow, _loan_overdue(row, now), now)
    else:
        publish_cleared(uow, row.loan_id, "paid", now)


def _loan_overdue(row, now: datetime) -> dict:
    return overdue_data(
        loan_id=row.loan_id,
        borrower_id=row.borrower_id,
        lender=row.lender,
        product=row.product,
        currency=row.currency,
        overdue_since=row.overdue_since,
        days_past_due=row.days_past_due,
        overdue_amount=row.overdue_amount,
        penalty_accrued=row.penalty_accrued,
        outstanding_balance=row.outstanding_balance,
        as_of=now,
    )


def sweep_day(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


async def sweep_is_due(runtime) -> bool:
    """Once a day, after the configured hour in the configured zone."""
    settings = runtime.settings
    local = runtime.clock.now().astimezone(ZoneInfo(settings.aging_sweep_timezone))
    if local.hour < settings.aging_sweep_hour:
        return False
    async with runtime.uow() as uow:
        finished = await uow.session.scalar(
            select(AgingSweepRow.finished_at).where(AgingSweepRow.run_on == local.date())
        )
    return finished is None


async def _diary_start(uow, run_on: date, now: datetime) -> None:
    table = AgingSweepRow.__table__
    statement = insert(table).values(run_on=run_on, started_at=now)
    await uow.session.execute(statement.on_conflict_do_update(index_elements=[table.c.run_on], set_={"started_at": now}))


async def _diary_finish(runtime, result: SweepResult) -> None:
    table = AgingSweepRow.__table__
    async with runtime.uow() as uow:
        await uow.session.execute(
            table.update()
            .where(table.c.run_on == result.run_on)
            .values(finished_at=runtime.clock.now(), loans_aged=result.loans_aged, notices=result.notices)
        )
        await uow.commit()
