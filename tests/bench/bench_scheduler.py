"""The scheduler's timer firing, in the same two phases as the bare SKIP LOCKED loop: N reminder timers
all due at once, then N pending for tomorrow while a steady trickle falls due (lateness).

Timers are written straight into the scheduler's own table (a million LoanOverdue events would measure
case handling, not firing), so this module knows that table's shape; an unknown shape is reported as
not measured, naming the columns it found.

The bare loop of the baselines claims and marks rows of a four-column table and writes nothing else;
firing a reminder also has to write its event to the outbox in the same transaction (or it could be
lost), and the service's relay then publishes it. So the drain row also carries, in its notes, a fair
bare loop measured in this section: the same claim on the scheduler's own table (same rows, same
indexes), marking them fired and writing each one's event, built from its row, into the outbox, in one
SQL statement per batch, with no service, relay or Python per row around it."""

import asyncio
import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from dunning_platform.devstack.migrate import migrate
from dunning_platform.devstack.services import service
from dunning_platform.devstack.state import repo_root

from .bench_context import Bench
from .bench_results import NotMeasured, Result, percentile
from .bench_services import environment

SCHEMA = "scheduler"
NEEDED = {"loan_id", "kind", "due_at", "status", "payload", "created_at", "fired_at", "reminder_id"}


async def timer_columns(connection: asyncpg.Connection) -> set[str]:
    rows = await connection.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'timers'", SCHEMA)
    return {row["column_name"] for row in rows}


def reminder_payload(loan_id: str) -> str:
    """What the planner writes in a reminder timer's payload: why and under which policy version, and the
    rest of its ReminderRequested (firing builds the event from the row)."""
    now = datetime.now(UTC)
    return json.dumps({
        "borrower_id": f"b-{loan_id}", "channel": "sms", "template": "overdue_day1", "locale": "zh-CN",
        "stage": "reminder", "not_before": now.isoformat(), "expires_at": (now + timedelta(hours=12)).isoformat(),
        "policy_version": 1, "reason": "benchmark",
    })


async def seed(connection: asyncpg.Connection, due_ats: list[datetime]) -> datetime:
    """Pending reminder timers without a case (as pre-due reminders are), one COPY, one transaction,
    in the shape the planner writes them (the reminder id from the column's default); returns when they
    became visible to the scheduler."""
    run = uuid.uuid4().hex[:6]
    now = datetime.now(UTC)
    payload = reminder_payload(f"sched-{run}")
    records = [(f"sched-{run}-{n}", "reminder", due, payload, now) for n, due in enumerate(due_ats)]
    columns = ["loan_id", "kind", "due_at", "payload", "created_at"]
    await connection.copy_records_to_table("timers", schema_name=SCHEMA, records=records, columns=columns)
    committed = datetime.now(UTC)
    # Statistics, as a long-lived table has them; the scheduler may already be firing meanwhile.
    await connection.execute(f"ANALYZE {SCHEMA}.timers")
    return committed


async def wait_until_none_due(connection: asyncpg.Connection, timeout: float, *, partial: bool = False) -> bool:
    """True when no due timer is left; on timeout NotMeasured, or False with `partial`."""
    deadline = time.monotonic() + timeout
    # EXISTS reads one entry of the partial index on pending due_at: cheap enough to poll under load.
    query = f"SELECT EXISTS (SELECT 1 FROM {SCHEMA}.timers WHERE status = 'pending' AND due_at <= now())"
    while await connection.fetchval(query):
        if time.monotonic() > deadline:
            if partial:
                return False
            left = await connection.fetchval(f"SELECT count(*) FROM {SCHEMA}.timers WHERE status = 'pending'"
                                             " AND due_at <= now()")
            raise NotMeasured(f"{left:,} due timers still pending after {timeout:.0f} s")
        await asyncio.sleep(0.1)
    return True


async def fired_since(connection: asyncpg.Connection, since: datetime) -> tuple[int, datetime | None]:
    row = await connection.fetchrow(
        f"SELECT count(*) AS n, max(fired_at) AS last FROM {SCHEMA}.timers WHERE status = 'fired' AND fired_at >= $1",
        since)
    return row["n"], row["last"]


# The least a durable firing does: claim, mark fired, and put the timer's event, built from its row as
# the scheduler builds it, in the outbox.
BARE_WITH_OUTBOX = f"""
WITH due AS (
    SELECT id FROM {SCHEMA}.timers WHERE status = 'pending' AND due_at <= now()
    ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED
), fired AS (
    UPDATE {SCHEMA}.timers AS t SET status = 'fired', fired_at = clock_timestamp() FROM due WHERE t.id = due.id
    RETURNING t.reminder_id, t.case_id, t.loan_id, t.payload
)
INSERT INTO {SCHEMA}.outbox (topic, key, value, event_type)
SELECT 'bench.bare', convert_to(loan_id, 'UTF8'), convert_to(json_build_object(
           'reminder_id', reminder_id, 'case_id', coalesce(case_id::text, 'pre-due:' || loan_id), 'loan_id', loan_id,
           'borrower_id', payload -> 'borrower_id', 'channel', payload -> 'channel', 'template', payload -> 'template',
           'locale', payload -> 'locale', 'stage', payload -> 'stage', 'not_before', payload -> 'not_before',
           'expires_at', payload -> 'expires_at')::text, 'UTF8'), 'ReminderRequested'
FROM fired
"""


async def bare_with_outbox(bench: Bench) -> tuple[int, float]:
    """(fired, seconds) of the fair bare loop on a migrated scheduler schema of its own database."""
    n = bench.sizes.timers
    database, urls = await bench.stack.create_database()
    try:
        env = {"SCHEDULER_DATABASE_URL": urls["dunning-scheduler"], "SCHEDULER_TOKENS_FILE": "/dev/null"}
        await migrate(service("dunning-scheduler"), env, repo_root())
        connection = await bench.stack.connect(database)
        try:
            now = datetime.now(UTC)
            await seed(connection, [now - timedelta(seconds=random.random() * 60) for _ in range(n)])
            started, fired = time.perf_counter(), 0
            while fired < n:
                status = await connection.execute(BARE_WITH_OUTBOX, bench.sizes.timer_batch)
                batch = int(status.rsplit(" ", 1)[1])
                if not batch:
                    break
                fired += batch
            return fired, time.perf_counter() - started
        finally:
            await connection.close()
    finally:
        await bench.stack.drop_database(database)


async def scheduler_timers(bench: Bench, replicas: int = 1) -> list[Result]:
    fair = await bare_with_outbox(bench) if replicas == 1 else None
    async with environment(bench, ["dunning-scheduler"] * replicas) as env:
        connection = env.connection
        found = await timer_columns(connection)
        if not NEEDED <= found:
            raise NotMeasured(f"scheduler.timers has ({', '.join(sorted(found)) or 'no table'}); "
                              f"the benchmark seeds ({', '.join(sorted(NEEDED))})")
        drain = await _drain(bench, connection)
        if replicas > 1:
            drain.key, drain.name = f"{drain.key}.scaled", f"{drain.name}, {replicas} replicas"
            drain.extra |= env.services.peak_rss_mb()
            return [drain]
        steady = await _steady(bench, connection)
        rss = env.services.peak_rss_mb()
    fair_rate = fair[0] / fair[1]
    drain.notes.append(f"fair bare loop on the same table (claim, mark, event into the outbox): {fair_rate:,.0f} actions/s, "
                       f"scheduler at {(drain.rate or 0) / fair_rate:.0%} of it")
    drain.extra |= {"fair_baseline_rate": fair_rate}
    drain.extra |= rss
    steady.extra |= rss
    # Reported too as a row of its own, for a plan that names it as the drain's baseline.
    bare = Result("baseline.skip_locked_outbox", "bare SKIP LOCKED loop + outbox rows, scheduler's table",
                  fair[0], fair[1], unit="actions/s", notes=[f"{bench.sizes.timers:,} timers all due"])
    return [drain, steady, bare]


async def scheduler_scaled(bench: Bench) -> list[Result]:
    if bench.sizes.replicas < 2:
        raise NotMeasured("replica scaling is off (--replicas 0)")
    return await scheduler_timers(bench, bench.sizes.replicas)


async def _drain(bench: Bench, connection: asyncpg.Connection) -> Result:
    n = bench.sizes.timers
    now = datetime.now(UTC)
    # The scheduler's clock starts when the COPY commits and the timers become visible.
    committed = await seed(connection, [now - timedelta(seconds=random.random() * 60) for _ in range(n)])
    complete = await wait_until_none_due(connection, bench.sizes.drain_timeout, partial=True)
    fired, last = await fired_since(connection, now - timedelta(seconds=1))
    seconds = max((last - committed).total_seconds(), 1e-3) if last else 0.0
    notes = [] if complete else [f"INCOMPLETE: {fired:,} of {n:,} within {bench.sizes.drain_timeout} s"]
    notes.append(f"{n:,} reminder timers all due; each fired emits ReminderRequested to the outbox")
    return Result("scheduler.timers", "scheduler firing due timers", fired, seconds, unit="actions/s", notes=notes)


async def _steady(bench: Bench, connection: asyncpg.Connection) -> Result:
    sizes = bench.sizes
    now = datetime.now(UTC)
    await seed(connection, [now + timedelta(days=1, seconds=random.random() * 3600) for _ in range(sizes.timers)])
    count = sizes.timer_steady_rate * sizes.timer_steady_seconds
    start = datetime.now(UTC) + timedelta(seconds=2)
    window = [start + timedelta(seconds=i / sizes.timer_steady_rate) for i in range(count)]
    await seed(connection, window)
    await asyncio.sleep(max(0.0, (window[-1] - datetime.now(UTC)).total_seconds()))
    await wait_until_none_due(connection, sizes.drain_timeout)
    rows = await connection.fetch(
        f"SELECT extract(epoch FROM fired_at - due_at) * 1000 AS ms, fired_at FROM {SCHEMA}.timers"
        " WHERE due_at BETWEEN $1 AND $2 AND status = 'fired'", window[0], window[-1])
    samples = [float(row["ms"]) for row in rows]
    if not samples:
        raise NotMeasured("none of the steady timers was fired")
    seconds = (max(row["fired_at"] for row in rows) - window[0]).total_seconds()
    result = Result("scheduler.timers_steady", f"scheduler timers, steady {sizes.timer_steady_rate:,}/s due",
                    len(samples), seconds, unit="actions/s", samples_ms=samples,
                    notes=[f"{sizes.timers:,} other timers pending"])
    result.extra |= {"p50_ms": percentile(samples, 50), "p99_ms": percentile(samples, 99)}
    return result
