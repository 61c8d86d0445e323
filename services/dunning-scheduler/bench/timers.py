"""Timer benchmark: fire due actions from a table of 1,000,000 pending timers, beside a bare
`FOR UPDATE SKIP LOCKED` claim loop on the same database in the same run.

    .venv/bin/python services/dunning-scheduler/bench/timers.py [--timers 1000000] [--backlog 200000]

Phases, each on its own slice of the same table:
  1. bare:      claim + mark fired + commit, nothing else (the ceiling of the claim itself);
  2. scheduler: the scheduler's own firing (claim, ReminderRequested into the outbox, commit);
  3. lateness:  timers falling due at a steady rate; how late each is committed (p50, p99).
Uses DUNNING_DATABASE_URL when set (an admin URL), else an embedded PostgreSQL in a temporary folder.
"""

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import text

from dunning_contracts.events import ReminderRequested
from dunning_messaging import UnitOfWork
from dunning_platform.clock import SystemClock
from dunning_platform.db import make_engine, make_session_factory
from dunning_platform.devstack.bootstrap import bootstrap
from dunning_platform.devstack.migrate import migrate
from dunning_platform.devstack.postgres import asyncpg_dsn, external_admin_url, start_embedded
from dunning_platform.devstack.services import SERVICES, service
from dunning_platform.devstack.state import repo_root
from dunning_scheduler import firing
from dunning_scheduler.adapters.orm import SCHEMA, tables

BARE_CLAIM = text(
    """
    UPDATE timers AS t SET status = 'fired', fired_at = now()
    FROM (SELECT id FROM timers WHERE status = 'pending' AND due_at <= now()
          ORDER BY due_at LIMIT :limit FOR UPDATE SKIP LOCKED) AS due
    WHERE t.id = due.id
    RETURNING t.due_at
    """
)


def planned(reminder_id: uuid.UUID, case_id: uuid.UUID, loan_id: str, not_before: datetime) -> tuple[str, str]:
    """(payload, event) of a reminder, as `casework.timer_rows` writes them."""
    event = ReminderRequested(
        reminder_id=str(reminder_id), case_id=str(case_id), loan_id=loan_id, borrower_id=f"B-{loan_id}",
        channel="sms", template="overdue_reminder", locale="zh-CN", stage="reminder",
        not_before=not_before, expires_at=not_before + timedelta(hours=24),
    )
    payload = {
        "stage": "reminder", "day": 3, "reason": "day 3 of reminder", "policy_version": 1, "locale": "zh-CN",
        "template": "overdue_reminder", "trace_id": None, "channel": "sms",
    }
    return json.dumps(payload), event.model_dump_json()


async def seed(dsn: str, total: int, backlog: int, steady: int) -> None:
    """`backlog` due long ago for the bare loop, `backlog` due a little later for the scheduler,
    `steady` kept aside (loan ids `S-...`) for the lateness phase, and the rest far in the future."""
    now = datetime.now(UTC)
    due_times = [now - timedelta(hours=3) + timedelta(microseconds=i) for i in range(backlog)]
    due_times += [now - timedelta(hours=1) + timedelta(microseconds=i) for i in range(backlog)]
    aside = len(due_times)
    due_times += [now + timedelta(days=20) for _ in range(steady)]
    due_times += [now + timedelta(days=30, seconds=i) for i in range(total - len(due_times))]
    records = []
    for i, due in enumerate(due_times):
        reminder_id, case_id = uuid.uuid4(), uuid.uuid4()
        loan_id = f"S-{i - aside}" if aside <= i < aside + steady else f"L-{i % 100000}"
        records.append((reminder_id, case_id, loan_id, "reminder", due, *planned(reminder_id, case_id, loan_id, now), now))
    connection = await asyncpg.connect(dsn)
    try:
        await connection.copy_records_to_table(
            "timers", schema_name=SCHEMA, records=records,
            columns=["reminder_id", "case_id", "loan_id", "kind", "due_at", "payload", "event", "created_at"],
        )
        await connection.execute(f"ANALYZE {SCHEMA}.timers")
    finally:
        await connection.close()


async def fall_due_steadily(dsn: str, start: datetime, rate: int) -> None:
    """The set-aside timers now fall due at `rate` per second from `start`."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            f"UPDATE {SCHEMA}.timers SET due_at = $1::timestamptz + (substr(loan_id, 3)::int / $2::float) * interval '1 second' "
            "WHERE loan_id LIKE 'S-%' AND status = 'pending'",
            start, rate,
        )
    finally:
        await connection.close()


async def vacuum(dsn: str) -> None:
    """What autovacuum would have done by now: the 400,000 rows fired above leave dead entries at the
    head of the due-time index, which every claim would otherwise step over."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f"VACUUM ANALYZE {SCHEMA}.timers")
    finally:
        await connection.close()


async def bare_worker(session_factory, batch: int, until_fired: int, fired: list, lateness: list) -> None:
    while sum(fired) < until_fired:
        async with session_factory() as session, session.begin():
            rows = (await session.execute(BARE_CLAIM, {"limit": batch})).all()
        committed = datetime.now(UTC)
        fired.append(len(rows))
        lateness += [(committed - row.due_at).total_seconds() for row in rows]
        if not rows:
            return


async def scheduler_worker(session_factory, batch: int, until_fired: int | None, fired: list, lateness: list, stop_at: float) -> None:
    """Fire until `until_fired` timers have fired, or (None) until nothing is due any more."""
    clock = SystemClock()
    while (until_fired is None or sum(fired) < until_fired) and time.monotonic() < stop_at:
        async with UnitOfWork(session_factory, tables, source="urn:bench", clock=clock) as uow:
            rows = await firing.fire_due_actions(uow, batch, "urn:bench")
            await uow.commit()
        committed = datetime.now(UTC)
        fired.append(len(rows))
        lateness += [(committed - row["due_at"]).total_seconds() for row in rows]
        if not rows and until_fired is None:
            return  # the backlog is drained
        if len(rows) < batch:
            await asyncio.sleep(0.05)


async def run_phase(name: str, workers: list) -> float:
    print(f"phase {name} ...", flush=True)
    started = time.perf_counter()
    await asyncio.gather(*workers)
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1] if len(values) > 1 else values[0]


async def bench(admin_url: str, args) -> None:
    url = await database(admin_url)
    engine = make_engine(url, SCHEMA, pool_size=args.workers + 2)
    factory = make_session_factory(engine)
    steady = args.rate * args.steady_seconds
    print(f"seeding {args.timers:,} pending timers ...", flush=True)
    began = time.perf_counter()
    await seed(asyncpg_dsn(url), args.timers, args.backlog, steady)
    print(f"seeded in {time.perf_counter() - began:.1f} s", flush=True)

    bare_fired, bare_late = [], []
    bare_s = await run_phase("bare", [bare_worker(factory, args.batch, args.backlog, bare_fired, bare_late) for _ in range(args.workers)])
    ours_fired, ours_late = [], []
    deadline = time.monotonic() + 600
    ours_s = await run_phase("scheduler", [
        scheduler_worker(factory, args.batch, None, ours_fired, ours_late, deadline) for _ in range(args.workers)
    ])
    await vacuum(asyncpg_dsn(url))
    # Far enough ahead that the update moving them is committed before the first one falls due.
    steady_start = datetime.now(UTC) + timedelta(seconds=args.lead_seconds)
    await fall_due_steadily(asyncpg_dsn(url), steady_start, args.rate)
    if datetime.now(UTC) > steady_start:
        print("warning: the steady timers became visible after they fell due; raise --lead-seconds", flush=True)
    steady_fired, steady_late = [], []
    stop_at = time.monotonic() + (steady_start - datetime.now(UTC)).total_seconds() + args.steady_seconds + 5
    await run_phase("lateness", [
        scheduler_worker(factory, args.batch, steady, steady_fired, steady_late, stop_at) for _ in range(args.workers)
    ])
    await engine.dispose()
    report(args, sum(bare_fired), bare_s, bare_late, sum(ours_fired), ours_s, ours_late, sum(steady_fired), steady_late)


def report(args, bare_n, bare_s, bare_late, ours_n, ours_s, ours_late, steady_n, steady_late) -> None:
    bare_rate, ours_rate = bare_n / bare_s, ours_n / ours_s
    print()
    print(f"pending timers in the table: {args.timers:,}; batch {args.batch}; workers {args.workers}")
    print(f"bare SKIP LOCKED claim loop : {bare_n:>9,} in {bare_s:6.2f} s = {bare_rate:>9,.0f} /s")
    print(f"scheduler (claim + emit)    : {ours_n:>9,} in {ours_s:6.2f} s = {ours_rate:>9,.0f} /s  ({ours_rate / bare_rate:.0%} of bare)")
    print(
        f"steady {args.rate:,}/s for {args.steady_seconds} s: {steady_n:,} fired; lateness p50 "
        f"{percentile(steady_late, 0.5):.3f} s, p99 {percentile(steady_late, 0.99):.3f} s, max {max(steady_late, default=0):.3f} s"
    )
    verdict = ours_rate >= 10_000 and ours_rate >= 0.5 * bare_rate and percentile(steady_late, 0.99) < 1.0
    print(f"goal (>= 10,000/s, >= 50% of bare, p99 < 1 s): {'met' if verdict else 'NOT met'}")


async def database(admin_url: str) -> str:
    passwords = {svc.role: uuid.uuid4().hex for svc in SERVICES}
    name = f"bench_scheduler_{uuid.uuid4().hex[:8]}"
    urls = await bootstrap(admin_url, passwords, database=name)
    svc = service("dunning-scheduler")
    await migrate(svc, {"SCHEDULER_DATABASE_URL": urls[svc.name], "SCHEDULER_TOKENS_FILE": "/dev/null"}, repo_root())
    return urls[svc.name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=1_000_000)
    parser.add_argument("--backlog", type=int, default=200_000, help="timers fired by each of the bare and scheduler phases")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=int, default=5000, help="timers falling due per second in the lateness phase")
    parser.add_argument("--steady-seconds", type=int, default=20)
    parser.add_argument("--lead-seconds", type=int, default=30, help="from moving the steady timers to the first falling due")
    args = parser.parse_args()
    external = external_admin_url()
    if external:
        return asyncio.run(bench(external, args))
    root = Path(tempfile.mkdtemp(prefix="dunning-bench-"))
    server = start_embedded(root / "pg", durable=True)
    try:
        asyncio.run(bench(server.admin_url, args))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
