"""The gauges every replica refreshes on a timer, read from /metrics against real PostgreSQL and Tansu:
outbox backlog and age, records on the dead-letter topics, consumer lag."""

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from asgi_lifespan import LifespanManager
from prometheus_client.parser import text_string_to_metric_families

from dunning_contracts import CloudEvent, Topics, dlq_topic
from dunning_contracts.events import OverdueCleared
from dunning_messaging import ConsumerSpec, Runtime, messaging_tables
from dunning_messaging.testing import database_with_messaging_tables
from dunning_platform.db import service_metadata
from dunning_platform.http import create_app
from dunning_platform.settings import ServiceSettings

SCHEMA = "gaugetest"
tables = messaging_tables(service_metadata(SCHEMA))


class GaugeSettings(ServiceSettings):
    metrics_interval_seconds: float = 0.3


@pytest.fixture(scope="module")
async def database_url(postgres_admin_url):
    return await database_with_messaging_tables(postgres_admin_url, "gauges", [SCHEMA])


@pytest.fixture
def settings(database_url, kafka_bootstrap, tmp_path):
    return GaugeSettings(
        database_url=database_url, kafka_bootstrap=kafka_bootstrap, tokens_file=tmp_path / "tokens.json",
        source="urn:test:gauges", kafka_retry_backoff_ms=10,
    )


HELD = asyncio.Event()
RELEASED = asyncio.Event()


async def on_loan_closed(uow, event, data) -> None:
    """Hangs on a loan named `hang-...` until the test releases it: a consumer stuck in a handler."""
    if data.loan_id.startswith("hang"):
        HELD.set()
        await RELEASED.wait()


def closed(loan_id: str) -> bytes:
    return CloudEvent(
        specversion="1.0", id=str(uuid.uuid4()), source="urn:test", type="LoanClosed", time=datetime.now(UTC),
        subject=loan_id, data={"loan_id": loan_id, "reason": "repaid", "closed_at": datetime.now(UTC).isoformat()},
    ).to_json_bytes()


# The lag test's own topic: the DLQ test's poison stays out of its partitions.
LAG_TOPIC = "test.gauge-lag.v1"


def runtime_for(settings, group: str | None = None, topic: str = Topics.REPAYMENT_EVENTS) -> Runtime:
    consumers = [ConsumerSpec(group, [topic], {"LoanClosed": on_loan_closed})] if group else []
    return Runtime(settings, tables, service="gauge-test", schema=SCHEMA, consumers=consumers, produces=[Topics.LOAN_OVERDUE])


class Metrics:
    """/metrics of a running app, read as numbers."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def samples(self, name: str) -> dict[tuple, float]:
        body = (await self._client.get("/metrics")).text
        found = {}
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                if sample.name == name:
                    found[tuple(sorted(sample.labels.items()))] = sample.value
        return found

    async def value(self, name: str, **labels) -> float | None:
        return (await self.samples(name)).get(tuple(sorted(labels.items())))

    async def until(self, name: str, accept, timeout: float = 30, **labels) -> float | None:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await self.value(name, **labels)
            if accept(value) or asyncio.get_running_loop().time() > deadline:
                return value
            await asyncio.sleep(0.2)


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_a_row_the_relay_cannot_publish_shows_as_backlog_with_a_growing_age(settings, database_url):
    # Another replica holds the relay lock and does not publish: this replica must still report the backlog.
    other_replica = await asyncpg.connect(plain(database_url))
    await other_replica.execute("SELECT pg_advisory_lock(hashtext($1))", f"outbox:{SCHEMA}")
    runtime = runtime_for(settings)
    app = create_app(title="gauge-test", settings=settings, routers=[], runtime=runtime)
    async with LifespanManager(app, startup_timeout=60), httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        metrics = Metrics(client)
        async with runtime.uow() as uow:
            uow.emit("OverdueCleared", OverdueCleared(loan_id="L-held", reason="paid", cleared_at=datetime.now(UTC)))
            await uow.commit()

        assert await metrics.until("outbox_backlog", lambda v: v == 1) == 1
        first_age = await metrics.until("outbox_oldest_age_seconds", lambda v: v and v > 0)
        await asyncio.sleep(1.5)
        later_age = await metrics.until("outbox_oldest_age_seconds", lambda v: v and v >= first_age + 1)
        assert later_age >= first_age + 1

        await other_replica.execute("SELECT pg_advisory_unlock(hashtext($1))", f"outbox:{SCHEMA}")
        assert await metrics.until("outbox_backlog", lambda v: v == 0) == 0
        assert await metrics.value("outbox_oldest_age_seconds") == 0
    await other_replica.close()


async def test_the_dlq_gauge_counts_every_dead_letter_even_when_the_relay_sent_them_in_one_batch(settings, kafka_bootstrap):
    runtime = runtime_for(settings, group=f"gauge-dlq-{uuid.uuid4().hex[:6]}")
    app = create_app(title="gauge-test", settings=settings, routers=[], runtime=runtime)
    dlq = dlq_topic(Topics.REPAYMENT_EVENTS)
    async with LifespanManager(app, startup_timeout=60), httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        metrics = Metrics(client)
        assert await metrics.until("dlq_messages", lambda v: v == 0, topic=dlq) == 0

        # One partition, one fetch, one transaction: the seven dead letters leave the outbox together,
        # in a produce batch whose end Tansu reports as its first offset + 1, not 7.
        await produce(kafka_bootstrap, [b"not json %d" % n for n in range(7)], key=b"poison")

        assert await metrics.until("dlq_messages", lambda v: v == 7, topic=dlq) == 7
        await asyncio.sleep(1)
        assert await metrics.value("dlq_messages", topic=dlq) == 7


async def test_lag_moves_while_the_consumer_hangs_and_a_lost_partition_is_no_longer_reported(settings, kafka_bootstrap):
    group = f"gauge-lag-{uuid.uuid4().hex[:6]}"
    runtime = runtime_for(settings, group=group, topic=LAG_TOPIC)
    app = create_app(title="gauge-test", settings=settings, routers=[], runtime=runtime)
    HELD.clear()
    RELEASED.clear()
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30), httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        metrics = Metrics(client)
        await produce(kafka_bootstrap, [closed("hang-1")], key=b"stuck", topic=LAG_TOPIC)
        await asyncio.wait_for(HELD.wait(), 45)
        partition = await partition_of(metrics, group)

        # Stuck in the handler, no batch ends: only the timer can report the records piling up behind it.
        # One produce batch each: Tansu reports a partition's end as its last batch's first offset + 1.
        for n in range(4):
            await produce(kafka_bootstrap, [closed(f"L-{n}")], key=b"stuck", topic=LAG_TOPIC)
        labels = {"group": group, "topic": LAG_TOPIC, "partition": partition}
        assert await metrics.until("consumer_lag", lambda v: v == 5, **labels) == 5

        RELEASED.set()
        assert await metrics.until("consumer_lag", lambda v: v == 0, **labels) == 0
        assert len(await lagging_partitions(metrics, group)) == settings.kafka_partitions

        # A replica in another process joins the group and takes some partitions away from this one.
        replica = start_replica(settings, group)
        try:
            held = await until_fewer(metrics, group, settings.kafka_partitions)
        finally:
            replica.terminate()
            replica.wait(30)
        assert 0 < len(held) < settings.kafka_partitions


async def partition_of(metrics: Metrics, group: str) -> str:
    """The partition of the key `stuck`: the one whose lag the timer reports as 1 while the handler hangs."""
    deadline = asyncio.get_running_loop().time() + 30
    while asyncio.get_running_loop().time() < deadline:
        behind = [labels for labels, value in (await lagging(metrics, group)).items() if value == 1]
        if behind:
            return dict(behind[0])["partition"]
        await asyncio.sleep(0.2)
    raise AssertionError(f"no partition reported the hung record: {await lagging(metrics, group)}")


async def lagging(metrics: Metrics, group: str) -> dict[tuple, float]:
    return {labels: value for labels, value in (await metrics.samples("consumer_lag")).items() if ("group", group) in labels}


async def lagging_partitions(metrics: Metrics, group: str) -> set[str]:
    return {dict(labels)["partition"] for labels in await lagging(metrics, group)}


async def until_fewer(metrics: Metrics, group: str, count: int, timeout: float = 60) -> set[str]:
    """Some but not all of them (none while the group rebalances)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        held = await lagging_partitions(metrics, group)
        if 0 < len(held) < count or asyncio.get_running_loop().time() > deadline:
            return held
        await asyncio.sleep(0.3)


REPLICA = """
import asyncio, sys
from dunning_messaging import ConsumerSpec, Runtime, messaging_tables
from dunning_platform.db import service_metadata
from dunning_platform.settings import ServiceSettings

async def ignore(uow, event, data):
    pass

async def main():
    settings = ServiceSettings()
    spec = ConsumerSpec(sys.argv[1], [sys.argv[3]], {"LoanClosed": ignore})
    runtime = Runtime(settings, messaging_tables(service_metadata(sys.argv[2])), service="gauge-replica",
                      schema=sys.argv[2], consumers=[spec])
    await runtime.start()
    await asyncio.Event().wait()

asyncio.run(main())
"""


def start_replica(settings, group: str) -> subprocess.Popen:
    env = os.environ | {
        "DATABASE_URL": settings.database_url.get_secret_value(), "KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "TOKENS_FILE": str(settings.tokens_file),
    }
    return subprocess.Popen([sys.executable, "-c", REPLICA, group, SCHEMA, LAG_TOPIC], env=env)


async def produce(bootstrap: str, values: list[bytes], key: bytes, topic: str = Topics.REPAYMENT_EVENTS) -> None:
    """In one produce request, so one consumer fetch takes them all."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=200)
    await producer.start()
    try:
        for value in values:
            await producer.send(topic, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()
