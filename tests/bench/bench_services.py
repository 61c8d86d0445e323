"""Each service measured through its real entry points (Kafka topics, HTTP), as processes launched the
way `make run` launches them, on a fresh database and broker. Progress is read from what the services
must write anyway: their inbox (one row per consumed event) and the events they publish."""

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg
import httpx

from dunning_contracts import Topics

from . import bench_events as ev
from . import bench_kafka as kafka
from .bench_context import Bench
from .bench_processes import Services, require_service, start_provider
from .bench_results import NotMeasured, Result, percentile, skipped

WARM_UP_TIMEOUT = 90.0
# A second consumer joining makes the group rebalance; Tansu settles it within a few seconds.
REBALANCE_SECONDS = 8.0


@dataclass
class Environment:
    services: Services
    database: str
    connection: asyncpg.Connection

    @property
    def bootstrap(self) -> str:
        return self.services.bootstrap


@asynccontextmanager
async def environment(bench: Bench, names: list[str], *, provider: bool = False) -> AsyncIterator[Environment]:
    """Fresh broker and database, the named services started and ready, stopped and dropped afterwards.
    A name given twice starts two replicas of that service."""
    chosen = [require_service(name) for name in names]
    bootstrap = bench.stack.start_broker()
    database, urls = await bench.stack.create_database()
    services = Services(bench.stack, bootstrap, urls, profile_label=bench.current if bench.profile else None)
    connection = None
    try:
        await kafka.create_bus_topics(bootstrap)
        if provider:
            services.provider = await asyncio.to_thread(start_provider, bench.stack)
        # All at once, as `make run` does: their schemas and processes do not touch each other.
        await all_of(services.migrate(svc) for svc in dict.fromkeys(chosen))
        await all_of(services.start(svc) for svc in chosen)
        if bench.statements:
            await bench.stack.forget_statements(database)  # the migrations' DDL is not the measurement's
        connection = await bench.stack.connect(database)
        yield Environment(services, database, connection)
    finally:
        if connection is not None:
            await connection.close()
        await services.stop()
        bench.profiles.update(services.profiles)
        bench.stack.stop_broker(bootstrap)
        if bench.statements:
            bench.top_statements[bench.current] = await bench.stack.top_statements(database)
        await bench.stack.drop_database(database)


async def all_of(coroutines) -> None:
    """Run them together; raise the first failure only once every one has finished, so no process
    is still starting when the environment stops the others."""
    outcomes = await asyncio.gather(*coroutines, return_exceptions=True)
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if failures:
        raise failures[0]


async def count(environment: Environment, query: str, *args) -> int:
    try:
        return await environment.connection.fetchval(query, *args)
    except asyncpg.UndefinedTableError as error:
        raise NotMeasured(f"no table to count progress in: {error}") from None


async def wait_for_count(environment: Environment, query: str, target: int, timeout: float, *,
                         partial: bool = False) -> int:
    """Poll until `target`; on timeout, NotMeasured, or with `partial` the count reached so far."""
    deadline = time.monotonic() + timeout
    seen = await count(environment, query)
    while seen < target:
        if time.monotonic() > deadline:
            if partial:
                return seen
            raise NotMeasured(f"only {seen:,} of {target:,} done after {timeout:.0f} s")
        await asyncio.sleep(0.1)
        seen = await count(environment, query)
    return seen


# Ingestion


INBOX = "SELECT count(*) FROM ingestion.inbox"
DEAD_LETTERED = "SELECT count(*) FROM ingestion.outbox WHERE topic LIKE '%.dlq'"
EMITTED = "SELECT count(*) FROM ingestion.outbox WHERE topic NOT LIKE '%.dlq'"


async def ingestion_kafka(bench: Bench, replicas: int = 1) -> list[Result]:
    """K LoanBooked/RepaymentReceived (overdue loans, a partial payment each) produced to the inbound topic,
    timed from the first send to the last event in the ingestion inbox (consumed, deduplicated, applied,
    outbox written, committed). The consumer group has joined before the clock starts."""
    n = bench.sizes.ingestion_events
    events = ev.booked_and_repaid(n, bench.zone)
    ev.assert_valid(events)
    messages = [ev.encode(event) for event in events]
    async with environment(bench, ["ingestion"] * replicas) as env:
        warm_up = ev.booked_and_repaid(16, bench.zone)
        await kafka.produce(env.bootstrap, Topics.REPAYMENT_EVENTS, [ev.encode(e) for e in warm_up])
        before = await wait_for_count(env, INBOX, len(warm_up), WARM_UP_TIMEOUT)
        # Even one replica is several members of the group (INGESTION_CONSUMER_PROCESSES): the first to
        # join consumes the warm-up, and the others' joining would pause them all inside the timed window.
        await asyncio.sleep(REBALANCE_SECONDS)
        started = time.perf_counter()
        await kafka.produce(env.bootstrap, Topics.REPAYMENT_EVENTS, messages)
        done = await wait_for_count(env, INBOX, before + n, bench.sizes.drain_timeout, partial=True) - before
        seconds = time.perf_counter() - started
        notes = incomplete(done, n, seconds) + await _ingestion_notes(env)
        rss = env.services.peak_rss_mb()
    key, name = scaled("ingestion.kafka", "ingestion via Kafka", replicas)
    return [Result(key, name, done, seconds, notes=notes, extra=rss)]


def incomplete(done: int, target: int, seconds: float) -> list[str]:
    """A measurement that ran out of time still reports its rate so far, and says so."""
    return [] if done >= target else [f"INCOMPLETE: {done:,} of {target:,} within {seconds:.0f} s"]


def scaled(key: str, name: str, replicas: int) -> tuple[str, str]:
    return (key, name) if replicas == 1 else (f"{key}.scaled", f"{name}, {replicas} replicas")


async def ingestion_kafka_scaled(bench: Bench) -> list[Result]:
    if bench.sizes.replicas < 2:
        raise NotMeasured("replica scaling is off (--replicas 0)")
    return await ingestion_kafka(bench, bench.sizes.replicas)


async def _ingestion_notes(env: Environment) -> list[str]:
    notes = [f"{await count(env, EMITTED):,} events written to the outbox"]
    dead = await count(env, DEAD_LETTERED)
    if dead:
        notes.append(f"{dead:,} dead-lettered")
    return notes


async def ingestion_http(bench: Bench) -> list[Result]:
    """The same events in JSON arrays to POST /v1/repayment-events, a few batches in flight at once;
    timed until every batch has its per-item answer."""
    sizes = bench.sizes
    events = ev.booked_and_repaid(sizes.ingestion_http_events, bench.zone)
    batches = [events[i:i + sizes.ingestion_http_batch] for i in range(0, len(events), sizes.ingestion_http_batch)]
    async with environment(bench, ["ingestion"]) as env:
        running = env.services.running[0]
        headers = {"Authorization": f"Bearer {bench.stack.admin_token}"}
        async with httpx.AsyncClient(base_url=running.url, headers=headers, timeout=120.0) as client:
            await _post_batch(client, ev.booked_and_repaid(2, bench.zone))
            started = time.perf_counter()
            deadline = time.monotonic() + sizes.drain_timeout
            outcomes = await _post_all(client, batches, sizes.ingestion_http_concurrency, deadline)
            seconds = time.perf_counter() - started
        rss = env.services.peak_rss_mb()
    accepted = outcomes["accepted"]
    if not accepted:
        raise NotMeasured(f"no event accepted: {outcomes.most_common(3)}")
    notes = incomplete(sum(outcomes.values()), len(events), seconds)
    notes += [f"{sizes.ingestion_http_batch}/request, {sizes.ingestion_http_concurrency} in flight"]
    notes += [f"{number:,} {status}" for status, number in outcomes.items() if status != "accepted"]
    return [Result("ingestion.http", "ingestion via HTTP batch", accepted, seconds, notes=notes, extra=rss)]


async def _post_all(client: httpx.AsyncClient, batches: list[list[dict]], concurrency: int, deadline: float) -> Counter:
    outcomes: Counter = Counter()
    queue = iter(batches)

    async def worker() -> None:
        for batch in queue:
            if time.monotonic() > deadline:
                return
            outcomes.update(await _post_batch(client, batch))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return outcomes


async def _post_batch(client: httpx.AsyncClient, batch: list[dict]) -> Counter:
    response = await client.post("/v1/repayment-events", json=batch)
    if response.status_code != 200:
        return Counter({f"HTTP {response.status_code}: {response.text[:120]}": len(batch)})
    body = response.json()
    items = body.get("items", body.get("results", [])) if isinstance(body, dict) else body
    return Counter(_outcome(item) for item in items)


def _outcome(item: dict) -> str:
    status = str(item.get("status") or item.get("result") or "unknown")
    errors = item.get("errors") or []
    if status == "rejected" and errors:
        # Grouped by the first error, so a systematic rejection names its field in the table.
        return f"rejected ({errors[0].get('field')}: {str(errors[0].get('message'))[:60]})"
    return status


# Notification


@dataclass
class Sightings:
    """First receipt time per loan on each observed topic, and the statuses of ReminderSent."""

    overdue: dict[str, float] = field(default_factory=dict)
    requested: dict[str, float] = field(default_factory=dict)
    sent: dict[str, float] = field(default_factory=dict)
    reminders: set[str] = field(default_factory=set)
    statuses: Counter = field(default_factory=Counter)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: set[str] = field(default_factory=set)  # loans still without a ReminderSent

    def expect(self, loans: list[str]) -> None:
        # Kept up to date per event, so checking "all arrived" costs nothing at 100,000 loans.
        self.waiting = set(loans) - self.sent.keys()

    def record(self, topic: str, received: float, event: dict) -> None:
        loan_id = event.get("data", {}).get("loan_id")
        if topic == Topics.LOAN_OVERDUE and event.get("type") == "LoanOverdue":
            self.overdue.setdefault(loan_id, received)
        elif topic == Topics.REMINDER_REQUESTED:
            self.requested.setdefault(loan_id, received)
        elif topic == Topics.REMINDER_SENT:
            self.sent.setdefault(loan_id, received)
            self.waiting.discard(loan_id)
            self.reminders.add(event["data"].get("reminder_id"))
            self.statuses[event["data"].get("status")] += 1
        self.arrived.set()

    async def wait(self, done, timeout: float, what: str, *, partial: bool = False) -> bool:
        """True once `done()`; on timeout NotMeasured, or False with `partial`."""
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if partial:
                    return False
                raise NotMeasured(f"{what} not seen within {timeout:.0f} s (statuses so far: {dict(self.statuses)})")
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), min(remaining, 1.0))
            except TimeoutError:
                pass
        return True


@asynccontextmanager
async def observing(env: Environment, topics: list[str]) -> AsyncIterator[Sightings]:
    sightings = Sightings()
    observer = kafka.Observer(env.bootstrap, topics, sightings.record)
    await observer.start()
    try:
        yield sightings
    finally:
        await observer.stop()


async def notification_send(bench: Bench, replicas: int = 1) -> list[Result]:
    """N ReminderRequested (sms, one per borrower, in the borrower's daytime) after each borrower's
    LoanBooked has reached the service; timed until N ReminderSent are on the bus."""
    n = bench.sizes.reminders
    loans = ev.loan_ids("ntf", n + 1)
    booked = [ev.loan_booked(loan, zone=bench.zone, first_due=ev.overdue_date()) for loan in loans]
    requests = [ev.reminder_requested(loan) for loan in loans]
    ev.assert_valid(booked + requests)
    async with environment(bench, ["notification"] * replicas, provider=True) as env, \
            observing(env, [Topics.REMINDER_SENT]) as seen:
        await kafka.produce(env.bootstrap, Topics.REPAYMENT_EVENTS, [ev.encode(e) for e in booked])
        await _wait_for_contacts(env, n + 1)
        await kafka.produce(env.bootstrap, Topics.REMINDER_REQUESTED, [ev.encode(requests[0])])
        await seen.wait(lambda: len(seen.reminders) >= 1, WARM_UP_TIMEOUT, "a first ReminderSent")
        if replicas > 1:
            await asyncio.sleep(REBALANCE_SECONDS)
        started = time.perf_counter()
        await kafka.produce(env.bootstrap, Topics.REMINDER_REQUESTED, [ev.encode(e) for e in requests[1:]])
        await seen.wait(lambda: len(seen.reminders) >= n + 1, bench.sizes.drain_timeout, f"{n:,} ReminderSent",
                        partial=True)
        seconds = time.perf_counter() - started
        done = len(seen.reminders) - 1
        rss = env.services.peak_rss_mb()
        provider = env.services.provider.kind
    notes = incomplete(done, n, seconds) + [f"provider: {provider}", "statuses: " + ", ".join(f"{k} {v:,}" for k, v in seen.statuses.items())]
    key, name = scaled("notification.send", "notification: guard + provider", replicas)
    return [Result(key, name, done, seconds, unit="reminders/s", notes=notes, extra=rss)]


async def notification_scaled(bench: Bench) -> list[Result]:
    if bench.sizes.replicas < 2:
        raise NotMeasured("replica scaling is off (--replicas 0)")
    return await notification_send(bench, bench.sizes.replicas)


async def _wait_for_contacts(env: Environment, n: int, stall: float = 10.0) -> None:
    """Until the service has consumed the LoanBooked events (its inbox), or they stop coming: a service
    that learns contacts another way is not held up."""
    query = f"SELECT count(*) FROM notification.inbox WHERE topic = '{Topics.REPAYMENT_EVENTS}'"
    last, last_change = -1, time.monotonic()
    while True:
        seen = await count(env, query)
        if seen >= n or (seen == last and time.monotonic() - last_change > stall):
            return
        if seen != last:
            last, last_change = seen, time.monotonic()
        await asyncio.sleep(0.2)


# The whole pipeline

PIPELINE = ["ingestion", "dunning-scheduler", "notification"]
PIPELINE_TOPICS = [Topics.LOAN_OVERDUE, Topics.REMINDER_REQUESTED, Topics.REMINDER_SENT]


async def pipeline(bench: Bench) -> list[Result]:
    """Ingestion, scheduler, notification and the provider on one bus: first the steady phase (latency on
    a quiet system), then the burst (throughput), each timed on its own loans."""
    async with environment(bench, PIPELINE, provider=True) as env, \
            observing(env, PIPELINE_TOPICS) as seen:
        await _pipeline_warm_up(bench, env, seen)
        steady = await or_skipped(_pipeline_steady(bench, env, seen), "pipeline.steady", "pipeline: steady")
        burst = await or_skipped(_pipeline_burst(bench, env, seen), "pipeline.burst", "pipeline: loans overdue at once")
        rss = env.services.peak_rss_mb()
    steady.extra |= rss
    burst.extra |= rss
    return [burst, steady]


async def or_skipped(phase, key: str, name: str) -> Result:
    """A phase that cannot finish is reported as not measured; the phases after it still run."""
    try:
        return await phase
    except NotMeasured as error:
        return skipped(key, name, str(error))


async def _pipeline_warm_up(bench: Bench, env: Environment, seen: Sightings) -> None:
    """One loan all the way through, so every consumer group has joined before the clock starts."""
    loan = ev.loan_ids("warm", 1)[0]
    await kafka.produce(env.bootstrap, Topics.REPAYMENT_EVENTS,
                        [ev.encode(ev.loan_booked(loan, zone=bench.zone, first_due=ev.overdue_date(1)))])
    await seen.wait(lambda: loan in seen.sent, WARM_UP_TIMEOUT * 2, "a ReminderSent for a first overdue loan")


async def _pipeline_burst(bench: Bench, env: Environment, seen: Sightings) -> Result:
    """N loans booked with an installment already past due, produced at once; timed from the first send
    until a ReminderSent for every loan is on the bus."""
    n = bench.sizes.pipeline_loans
    loans = ev.loan_ids("burst", n)
    booked = [ev.loan_booked(loan, zone=bench.zone, first_due=ev.overdue_date(1)) for loan in loans]
    ev.assert_valid(booked[:1])
    # Encoded before the clock starts: the services, not the benchmark's own JSON, should have the cores.
    encoded = [ev.encode(e) for e in booked]
    before = Counter(seen.statuses)
    seen.expect(loans)
    started = time.perf_counter()
    await kafka.produce(env.bootstrap, Topics.REPAYMENT_EVENTS, encoded)
    await seen.wait(lambda: not seen.waiting, bench.sizes.drain_timeout,
                    f"ReminderSent for all {n:,} burst loans", partial=True)
    seconds = time.perf_counter() - started
    done = sum(loan in seen.sent for loan in loans)
    statuses = Counter(seen.statuses) - before
    notes = incomplete(done, n, seconds)
    notes.append("ReminderSent statuses: " + ", ".join(f"{k} {v:,}" for k, v in statuses.items()))
    return Result("pipeline.burst", "pipeline: loans overdue at once", done, seconds, unit="loans/s", notes=notes)


async def _pipeline_steady(bench: Bench, env: Environment, seen: Sightings) -> Result:
    """Loans falling overdue at a steady rate (booked in 50 ms ticks); latency is the time between a
    loan's LoanOverdue and its first ReminderSent appearing on the bus, both seen by one observer."""
    sizes = bench.sizes
    n = sizes.steady_rate * sizes.steady_seconds
    loans = ev.loan_ids("steady", n)
    seen.expect(loans)
    seconds = await _produce_steadily(bench, env, loans)
    await seen.wait(lambda: not seen.waiting, sizes.drain_timeout,
                    f"ReminderSent for all {n:,} steady loans", partial=True)
    samples = [(seen.sent[loan] - seen.overdue[loan]) * 1000 for loan in loans
               if loan in seen.overdue and loan in seen.sent]
    if not samples:
        raise NotMeasured("no LoanOverdue seen on the bus for the steady loans")
    result = Result("pipeline.steady", f"pipeline: steady {sizes.steady_rate:,} loans/s", n, seconds,
                    unit="loans/s", samples_ms=samples,
                    extra={"p50_ms": percentile(samples, 50), "p99_ms": percentile(samples, 99)})
    result.notes += incomplete(len(samples), n, sizes.drain_timeout)
    result.notes.append(f"{len(samples):,} latencies; produced over {seconds:.1f} s")
    result.notes += _hops(seen, loans)
    result.notes += await _steps(env.connection, loans[0].rsplit("-", 1)[0])
    return result


# Each step of a loan's way from the services' own timestamps: `created_at` and `handled_at` are the
# start of the transaction that wrote the row, `published_at` the start of the relay's transaction
# that took it (just before the send). Per loan, its first LoanOverdue and first reminder.
STEPS = """
WITH overdue AS (
    SELECT DISTINCT ON (key) key, event_id, created_at, published_at FROM ingestion.outbox
    WHERE event_type = 'LoanOverdue' AND convert_from(key, 'UTF8') LIKE $1 ORDER BY key, id
), planned AS (
    SELECT DISTINCT ON (o.key) o.key, i.handled_at FROM overdue AS o JOIN scheduler.inbox AS i USING (event_id)
    ORDER BY o.key, i.handled_at
), requested AS (
    SELECT DISTINCT ON (key) key, event_id, published_at FROM scheduler.outbox
    WHERE event_type = 'ReminderRequested' AND convert_from(key, 'UTF8') LIKE $1 ORDER BY key, id
), stored AS (
    SELECT r.key, i.handled_at FROM requested AS r JOIN notification.inbox AS i USING (event_id)
), sent AS (
    SELECT DISTINCT ON (key) key, created_at, published_at FROM notification.outbox
    WHERE event_type = 'ReminderSent' AND convert_from(key, 'UTF8') LIKE $1 ORDER BY key, id
)
SELECT o.published_at - o.created_at AS "ingestion relay",
       p.handled_at - o.published_at AS "scheduler consumer wait",
       r.published_at - p.handled_at AS "scheduler decides, commits, relays",
       t.handled_at - r.published_at AS "notification consumer wait",
       s.created_at - t.handled_at AS "notification stores, guards, sends",
       s.published_at - s.created_at AS "notification records, relays"
FROM overdue AS o JOIN planned AS p USING (key) JOIN requested AS r USING (key)
JOIN stored AS t USING (key) JOIN sent AS s USING (key)
"""


async def _steps(connection, loan_prefix: str) -> list[str]:
    """p50/p99 of each step, for the loans whose ids start with `loan_prefix`; none when a service keeps
    its rows otherwise (the figures are a diagnosis, not the measurement)."""
    try:
        rows = await connection.fetch(STEPS, f"{loan_prefix}-%")
    except asyncpg.PostgresError as error:
        return [f"steps not read: {error}"]
    if not rows:
        return []
    steps = []
    for name in rows[0].keys():
        # A row's relay may not have marked it published yet (another of the loan's reminders was seen).
        samples = [value.total_seconds() * 1000 for row in rows if (value := row[name]) is not None]
        if samples:
            steps.append(f"{name} {percentile(samples, 50):,.0f}/{percentile(samples, 99):,.0f}")
    return [f"steps p50/p99 ms over {len(rows):,} loans: " + "; ".join(steps)]


def _hops(seen: Sightings, loans: list[str]) -> list[str]:
    """Where the latency is: LoanOverdue -> ReminderRequested (scheduler) -> ReminderSent (notification)."""
    hops = []
    for name, start, end in (("scheduler hop", seen.overdue, seen.requested),
                             ("notification hop", seen.requested, seen.sent)):
        samples = [(end[loan] - start[loan]) * 1000 for loan in loans if loan in start and loan in end]
        if samples:
            hops.append(f"{name} p50 {percentile(samples, 50):,.0f} ms, p99 {percentile(samples, 99):,.0f} ms")
    return hops


async def _produce_steadily(bench: Bench, env: Environment, loans: list[str], tick: float = 0.05) -> float:
    per_tick = max(1, round(bench.sizes.steady_rate * tick))
    # Built and encoded before the first tick, so that the services, not the benchmark, have the cores.
    encoded = [ev.encode(ev.loan_booked(loan, zone=bench.zone, first_due=ev.overdue_date(1))) for loan in loans]
    sender = kafka.producer(env.bootstrap)
    await sender.start()
    try:
        started = time.perf_counter()
        for number, offset in enumerate(range(0, len(loans), per_tick)):
            await kafka.send_all(sender, Topics.REPAYMENT_EVENTS, encoded[offset:offset + per_tick])
            await asyncio.sleep(max(0.0, started + (number + 1) * tick - time.perf_counter()))
        return time.perf_counter() - started
    finally:
        await sender.stop()
