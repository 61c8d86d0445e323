"""CPU per event of the consumer's apply path, without a broker: the benchmark's LoanBooked/RepaymentReceived
events as ConsumerRecords, handed to the service's own EventConsumer in 2,000-record batches, against a
durable embedded PostgreSQL. Reports this process's CPU time and PostgreSQL's per event, which a busy
machine moves much less than wall-clock time (docs/profiling/ingestion.md).

    .venv/bin/python services/ingestion/tools/apply_path.py [EVENTS]
    .venv/bin/py-spy record -o apply.svg -- .venv/bin/python services/ingestion/tools/apply_path.py
"""

import asyncio
import os
import sys
import time
from pathlib import Path

from aiokafka import ConsumerRecord

sys.path.insert(0, str(Path(__file__).parents[3]))  # the repository root, for tests.bench

from dunning_contracts import Topics  # noqa: E402
from tests.bench import bench_events as ev  # noqa: E402
from tests.bench.bench_processes import Services  # noqa: E402
from tests.bench.bench_stack import BenchStack  # noqa: E402

BATCH = 2000


def records(count: int) -> list[ConsumerRecord]:
    events = ev.booked_and_repaid(count, ev.daytime_zone())
    return [_record(offset, *ev.encode(event)) for offset, event in enumerate(events)]


def _record(offset: int, key: bytes, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(Topics.REPAYMENT_EVENTS, 0, offset, 0, 0, key, value, None, len(key), len(value), [])


def cpu_seconds_of_tree(root: int) -> float:
    """User and system time of a process and its children (PostgreSQL's backends)."""
    pids = [root, *(int(p) for p in os.popen(f"pgrep -P {root}").read().split())]
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a backend that ended meanwhile
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


async def consumer_on(stack: BenchStack):
    """The service's consumer and runtime on a fresh migrated database; no broker, no relay."""
    from dunning_ingestion.adapters.orm import SCHEMA
    from dunning_ingestion.config import Settings
    from dunning_ingestion.main import consumers_of, worker_runtime
    from dunning_messaging.consumer import EventConsumer
    from dunning_messaging.runtime import calm_the_garbage_collector
    from dunning_platform.db import make_engine, make_session_factory
    from dunning_platform.devstack.services import SERVICES

    _, urls = await stack.create_database()
    await Services(stack, "127.0.0.1:1", urls).migrate(next(s for s in SERVICES if s.name == "ingestion"))
    settings = Settings(
        database_url=urls["ingestion"], kafka_bootstrap="127.0.0.1:1", tokens_file=str(stack.tokens_file),
        pii_key=stack.pii_key,
    )
    runtime = worker_runtime(settings)  # built, not started: no broker, no relay
    runtime.engine = make_engine(settings.database_url.get_secret_value(), SCHEMA)
    runtime.session_factory = make_session_factory(runtime.engine)
    runtime.relay = type("NoRelay", (), {"wake": lambda self: None})()
    calm_the_garbage_collector()
    return runtime, EventConsumer(consumers_of(settings)[0], runtime=runtime)


async def measure(stack: BenchStack, count: int) -> str:
    runtime, consumer = await consumer_on(stack)
    batch = records(count + BATCH)
    await consumer.process(batch[:BATCH])  # warm-up: statement caches, imports
    postmaster = int((stack.postgres.pgdata / "postmaster.pid").read_text().split()[0])
    cpu, wall, pg = time.process_time(), time.perf_counter(), cpu_seconds_of_tree(postmaster)
    for start in range(BATCH, count + BATCH, BATCH):
        await consumer.process(batch[start:start + BATCH])
    cpu, wall, pg = time.process_time() - cpu, time.perf_counter() - wall, cpu_seconds_of_tree(postmaster) - pg
    await runtime.engine.dispose()
    per_event = f"Python {cpu / count * 1e6:.1f} us/event, PostgreSQL {pg / count * 1e6:.1f} us/event"
    return f"{count:,} events: {per_event}, {count / wall:,.0f} events/s"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 40_000
    stack = BenchStack.start(durable=True)
    try:
        print(asyncio.run(measure(stack, count)))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
