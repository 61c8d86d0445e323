"""LoanOverdue consumption benchmark: how fast the scheduler opens cases from a backlog of new overdue
loans on the bus (each case: history, timers, and its first reminders falling due at once).

    .venv/bin/python services/dunning-scheduler/bench/overdue.py [--loans 20000] [--booked] [--profile out.txt]

N LoanOverdue (and with --booked, first N LoanBooked) are produced before the scheduler starts; the
scheduler then runs in this process (its timer loop and outbox relay included) on an embedded
PostgreSQL (durable) and a Tansu broker. Rate = N / (last case opened - first case opened); the first
batch's wait for the consumer group to join is outside that span. `--profile` samples this process
with py-spy while it drains and prints the top functions.
"""

import argparse
import asyncio
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asgi_lifespan import LifespanManager

from dunning_contracts import Topics
from dunning_platform.devstack.migrate import migrate
from dunning_platform.devstack.services import service
from dunning_platform.devstack.state import repo_root

sys.path.insert(0, str(repo_root()))
from tests.bench import bench_events as ev  # noqa: E402
from tests.bench import bench_kafka as kafka  # noqa: E402
from tests.bench.bench_stack import BenchStack  # noqa: E402

from dunning_scheduler.config import Settings  # noqa: E402
from dunning_scheduler.main import create_service_app  # noqa: E402


def loan_overdue(loan_id: str, days: int = 1) -> dict:
    now = datetime.now(UTC)
    data = {
        "loan_id": loan_id, "borrower_id": f"b-{loan_id}", "lender": ev.LENDER, "product": "cash-loan",
        "currency": "CNY", "overdue_since": (now.date() - timedelta(days=days)).isoformat(),
        "days_past_due": days, "overdue_amount": "1030.00", "penalty_accrued": "0.52",
        "outstanding_balance": "3090.00", "as_of": now.isoformat(),
    }
    return ev.envelope("LoanOverdue", loan_id, data, source="urn:bench:ingestion")


async def wait_for_cases(connection, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while await connection.fetchval("SELECT count(*) FROM scheduler.cases") < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"not all {n:,} cases opened within {timeout:.0f} s")
        await asyncio.sleep(0.2)


async def run(stack: BenchStack, args) -> None:
    bootstrap = stack.start_broker()
    database, urls = await stack.create_database()
    url = urls["dunning-scheduler"]
    await migrate(service("dunning-scheduler"), {"SCHEDULER_DATABASE_URL": url, "SCHEDULER_TOKENS_FILE": "/dev/null"}, repo_root())
    await kafka.create_bus_topics(bootstrap)
    loans = [f"ov-{uuid.uuid4().hex[:8]}-{i}" for i in range(args.loans)]
    zone = ev.daytime_zone()
    if args.booked:
        await kafka.produce(bootstrap, Topics.REPAYMENT_EVENTS, [ev.encode(ev.loan_booked(l, zone=zone, first_due=ev.overdue_date(1))) for l in loans])
    await kafka.produce(bootstrap, Topics.LOAN_OVERDUE, [ev.encode(loan_overdue(l)) for l in loans])
    print(f"{args.loans:,} LoanOverdue on the bus{' after as many LoanBooked' if args.booked else ''}", flush=True)
    settings = Settings(database_url=url, kafka_bootstrap=bootstrap, tokens_file=stack.tokens_file)
    connection = await stack.connect(database)
    recorder = profiler(args.profile)
    try:
        async with LifespanManager(create_service_app(settings), startup_timeout=60, shutdown_timeout=30):
            await wait_for_cases(connection, args.loans, args.timeout)
        row = await connection.fetchrow("SELECT min(opened_at) AS first, max(opened_at) AS last FROM scheduler.cases")
        fired = await connection.fetchval("SELECT count(*) FROM scheduler.timers WHERE status = 'fired'")
    finally:
        stop_profiler(recorder, args.profile)
        await connection.close()
    seconds = max((row["last"] - row["first"]).total_seconds(), 1e-3)
    print(f"cases opened: {args.loans:,} in {seconds:.2f} s = {args.loans / seconds:,.0f} LoanOverdue/s; "
          f"{fired:,} timers fired by then")


def profiler(out: str | None) -> subprocess.Popen | None:
    if not out:
        return None
    binary = str(Path(sys.executable).parent / "py-spy")
    import os
    return subprocess.Popen([binary, "record", "--pid", str(os.getpid()), "--rate", "100", "--format", "raw",
                             "--nonblocking", "-o", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profiler(recorder: subprocess.Popen | None, out: str | None) -> None:
    if recorder is None:
        return
    import signal
    recorder.send_signal(signal.SIGINT)
    recorder.wait(30)
    from tests.bench.bench_profile import summarise
    for heading, rows in summarise(Path(out)).items():
        print(f"\n{heading}:")
        for name, share in rows:
            print(f"  {share:6.1%}  {name}" if name else f"  {share:,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=20_000)
    parser.add_argument("--booked", action="store_true", help="a LoanBooked for each loan first, as the pipeline has")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--profile", help="py-spy raw output file; prints the top functions")
    args = parser.parse_args()
    stack = BenchStack.start(durable=True)
    try:
        asyncio.run(run(stack, args))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
