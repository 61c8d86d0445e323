"""The machine's own limits, measured in the same run as the services: the bare operations each service
is built from, with no framework around them."""

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta

import httpx


from . import bench_events as ev
from . import bench_kafka as kafka
from .bench_context import Bench
from .bench_processes import start_provider
from .bench_results import Result, percentile

RAW_TOPIC = "bench.raw-repayment-events.v1"


async def kafka_produce_and_consume(bench: Bench) -> list[Result]:
    """Raw aiokafka produce of N inbound CloudEvents (the services' producer settings), then a raw read of
    them with a json parse each, on a broker of the same build the services get."""
    n = bench.sizes.kafka_events
    events = ev.booked_and_repaid(n, bench.zone)
    ev.assert_valid(events)
    messages = [ev.encode(event) for event in events]
    size = sum(len(value) for _, value in messages) // len(messages)
    bootstrap = bench.stack.start_broker()
    try:
        await kafka.create_topics(bootstrap, [RAW_TOPIC])
        produce_seconds = await kafka.produce(bootstrap, RAW_TOPIC, messages)
        consume_seconds = await kafka.consume_and_parse(bootstrap, RAW_TOPIC, n, timeout=bench.sizes.drain_timeout)
    finally:
        bench.stack.stop_broker(bootstrap)
    note = f"{size}-byte LoanBooked/RepaymentReceived, {kafka.PARTITIONS} partitions, acks=all, linger 5 ms"
    return [
        Result("baseline.kafka_produce", "raw aiokafka produce", n, produce_seconds, notes=[note]),
        Result("baseline.kafka_consume", "raw aiokafka consume + json parse", n, consume_seconds, notes=[note]),
    ]


async def asyncpg_insert(bench: Bench) -> list[Result]:
    """Outbox-shaped rows (topic, key, value, headers) by executemany, one transaction per batch."""
    n, batch = bench.sizes.insert_rows, bench.sizes.insert_batch
    rows = [("bench.topic", key, value, "[]") for key, value in
            (ev.encode(event) for event in ev.booked_and_repaid(min(n, 2_000), bench.zone))]
    database, _ = await bench.stack.create_database()
    connection = await bench.stack.connect(database)
    try:
        await connection.execute(
            "CREATE TABLE bench_rows (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, topic text NOT NULL,"
            " key bytea, value bytea NOT NULL, headers jsonb NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        )
        statement = "INSERT INTO bench_rows (topic, key, value, headers) VALUES ($1, $2, $3, $4::jsonb)"
        started = time.perf_counter()
        for offset in range(0, n, batch):
            chunk = [rows[i % len(rows)] for i in range(offset, min(n, offset + batch))]
            async with connection.transaction():
                await connection.executemany(statement, chunk)
        seconds = time.perf_counter() - started
    finally:
        await connection.close()
        await bench.stack.drop_database(database)
    return [Result("baseline.pg_insert", f"bare asyncpg executemany ({batch}/batch)", n, seconds)]


TIMERS_DDL = """
CREATE TABLE bench_timers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    due_at timestamptz NOT NULL,
    state text NOT NULL DEFAULT 'pending',
    fired_at timestamptz
);
CREATE INDEX bench_timers_due ON bench_timers (due_at) WHERE state = 'pending';
"""

CLAIM = """
SELECT id FROM bench_timers WHERE state = 'pending' AND due_at <= now()
ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED
"""
MARK = "UPDATE bench_timers SET state = 'fired', fired_at = clock_timestamp() WHERE id = ANY($1::bigint[])"


async def skip_locked_loop(bench: Bench) -> list[Result]:
    """The bare claim loop (claim a batch FOR UPDATE SKIP LOCKED, mark it fired, commit) over a table of
    N pending timers: first all due at once (actions/s), then N due tomorrow plus a steady trickle
    falling due now (lateness = fired_at - due_at)."""
    n = bench.sizes.timers
    database, _ = await bench.stack.create_database()
    connection = await bench.stack.connect(database)
    try:
        await connection.execute(TIMERS_DDL)
        now = datetime.now(UTC)
        await _seed_timers(connection, [now - timedelta(seconds=random.random() * 60) for _ in range(n)])
        await connection.execute("ANALYZE bench_timers")
        started = time.perf_counter()
        fired = await _claim_until(connection, bench.sizes.timer_batch, lambda count: count >= n)
        drain = Result("baseline.skip_locked", f"bare SKIP LOCKED claim loop ({bench.sizes.timer_batch}/batch)",
                       fired, time.perf_counter() - started, unit="actions/s", notes=[f"{n:,} timers all due"])
        lateness = await _steady_lateness(bench, connection)
    finally:
        await connection.close()
        await bench.stack.drop_database(database)
    return [drain, lateness]


async def _seed_timers(connection, due_ats: list[datetime]) -> None:
    await connection.copy_records_to_table("bench_timers", records=[(d,) for d in due_ats], columns=["due_at"])


async def _claim_until(connection, batch: int, done, poll: float = 0.05) -> int:
    fired = 0
    while not done(fired):
        async with connection.transaction():
            ids = [row["id"] for row in await connection.fetch(CLAIM, batch)]
            if ids:
                await connection.execute(MARK, ids)
        fired += len(ids)
        if not ids:
            await asyncio.sleep(poll)
    return fired


async def _steady_lateness(bench: Bench, connection) -> Result:
    sizes = bench.sizes
    now = datetime.now(UTC)
    await _seed_timers(connection, [now + timedelta(days=1, seconds=random.random() * 3600) for _ in range(sizes.timers)])
    count = sizes.timer_steady_rate * sizes.timer_steady_seconds
    start = now + timedelta(seconds=2)
    window = [start + timedelta(seconds=i / sizes.timer_steady_rate) for i in range(count)]
    await _seed_timers(connection, window)
    await connection.execute("ANALYZE bench_timers")
    fired = await _claim_until(connection, sizes.timer_batch, lambda fired: fired >= count)
    rows = await connection.fetch(
        "SELECT extract(epoch FROM fired_at - due_at) * 1000 AS ms, fired_at FROM bench_timers"
        " WHERE due_at BETWEEN $1 AND $2 AND state = 'fired'", window[0], window[-1])
    samples = [float(row["ms"]) for row in rows]
    # The rate of the steady phase is over its own span, from the first timer due to the last one fired.
    seconds = (max(row["fired_at"] for row in rows) - window[0]).total_seconds()
    result = Result("baseline.skip_locked_steady", f"bare SKIP LOCKED loop, steady {sizes.timer_steady_rate:,}/s due",
                    fired, seconds, unit="actions/s", samples_ms=samples,
                    notes=[f"{sizes.timers:,} other timers pending; poll every 50 ms"])
    result.extra |= {"p50_ms": percentile(samples, 50), "p99_ms": percentile(samples, 99)}
    return result


SMS_BATCH_PATH = "/sms/batches"  # the dev provider's SMS batch API; the minimal server answers any path
BATCH_SIZE = 100  # messages per request, as the notification service sends them (provider_batch_max)


def sms_message(n: int) -> dict:
    # What the service sends for one reminder: a fresh reference each, so the provider records every one.
    body = f"Your installment is overdue ({n})."
    return {"to": "+8613800000000", "body": body, "segments": 1, "reference": f"bench-{n}"}


def sms_batch(numbers: range) -> dict:
    return {"messages": [sms_message(n) for n in numbers]}


async def raw_http(bench: Bench) -> list[Result]:
    """The provider calls the notification service makes, with nothing around them: N SMS in POSTs of
    BATCH_SIZE messages each, keep-alive, a fixed number of requests in flight."""
    n, concurrency = bench.sizes.http_calls, bench.sizes.http_concurrency
    provider = await asyncio.to_thread(start_provider, bench.stack)
    try:
        url = provider.url + SMS_BATCH_PATH
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
            await client.post(url, json=sms_batch(range(-BATCH_SIZE, 0)))  # the first call pays for set-up
            one_call_ms = await _one_at_a_time(client, url)
            started = time.perf_counter()
            failures = await _call_all(client, url, n, concurrency)
            seconds = time.perf_counter() - started
    finally:
        await asyncio.to_thread(provider.child.stop, 5.0)
    # Counted per message, as the service's reminders are: each message of a batch is one provider call.
    notes = [f"{provider.kind}, POST {SMS_BATCH_PATH} of {BATCH_SIZE} messages, {concurrency} in flight; rate per message",
             f"one request alone: {one_call_ms:.1f} ms"]
    if failures:
        notes.append(f"{failures} messages failed")
    return [Result("baseline.http", "raw httpx calls to the provider", n - failures, seconds, unit="calls/s",
                   notes=notes)]


async def _one_at_a_time(client: httpx.AsyncClient, url: str, calls: int = 10) -> float:
    """The median time of one batch request with nothing else in flight."""
    times = []
    for number in range(calls):
        started = time.perf_counter()
        first = -(number + 2) * BATCH_SIZE
        await client.post(url, json=sms_batch(range(first, first + BATCH_SIZE)))
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 50)


async def _call_all(client: httpx.AsyncClient, url: str, n: int, concurrency: int) -> int:
    batches = iter(range(1, n + 1, BATCH_SIZE))
    failures = 0

    async def worker() -> None:
        nonlocal failures
        for first in batches:
            numbers = range(first, min(first + BATCH_SIZE, n + 1))
            failures += await _failed_in(client, url, numbers)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return failures


async def _failed_in(client: httpx.AsyncClient, url: str, numbers: range) -> int:
    try:
        response = await client.post(url, json=sms_batch(numbers))
    except httpx.HTTPError:
        return len(numbers)
    if response.status_code >= 300:
        return len(numbers)
    # The minimal server answers without per-message results: its 200 is every message taken.
    results = response.json().get("results") or []
    return sum(result.get("code", 500) >= 300 for result in results)


BASELINES = (kafka_produce_and_consume, asyncpg_insert, skip_locked_loop, raw_http)
