"""The outbox relay, real PostgreSQL and a real broker: a unit of work that commits while the relay's
batch is still running is published at once, not after the relay's idle wait."""

import asyncio
import json
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import insert

from dunning_messaging import messaging_tables
from dunning_messaging.testing import database_with_messaging_tables
from dunning_messaging.kafka import make_producer
from dunning_messaging.relay import OutboxRelay
from dunning_platform.db import make_engine, make_session_factory, service_metadata

SCHEMA = "relaywake"
tables = messaging_tables(service_metadata(SCHEMA))
IDLE_WAIT = 60.0  # far longer than the test waits: only a wake-up can publish in time


@pytest.fixture
async def session_factory(postgres_admin_url):
    url = await database_with_messaging_tables(postgres_admin_url, "relay", [SCHEMA])
    engine = make_engine(url, SCHEMA, pool_size=2)
    yield make_session_factory(engine)
    await engine.dispose()


class CommitDuringBatch(OutboxRelay):
    """The relay with one unit of work committing (and waking it) while its first batch is running."""

    def __init__(self, *args, commit, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._commit_during_batch = commit

    async def _publish(self, session) -> int:
        published = await super()._publish(session)
        if self._commit_during_batch is not None:
            commit, self._commit_during_batch = self._commit_during_batch, None
            await commit()
            self.wake()  # as the unit of work does once its commit returns
        return published


async def test_a_commit_during_the_relays_batch_is_published_without_waiting_out_the_idle_wait(
    session_factory, kafka_bootstrap
):
    topic = f"relay-wake-{uuid.uuid4().hex[:8]}"
    loan_id = f"L-{uuid.uuid4().hex[:8]}"

    async def commit_a_row() -> None:
        async with session_factory() as session, session.begin():
            value = json.dumps({"data": {"loan_id": loan_id}}).encode()
            await session.execute(insert(tables.outbox).values(topic=topic, key=loan_id.encode(), value=value))

    producer = make_producer(_settings(kafka_bootstrap), client_id="relay-wake-test")
    await producer.start()
    relay = CommitDuringBatch(session_factory, tables, producer, lock_name=topic, idle_wait=IDLE_WAIT, commit=commit_a_row)
    started = time.monotonic()
    running = asyncio.create_task(relay.run())
    try:
        values = await _read(kafka_bootstrap, topic, timeout=15)
    finally:
        relay.stop()
        await running
        await producer.stop()

    assert [json.loads(value)["data"]["loan_id"] for value in values] == [loan_id]
    assert time.monotonic() - started < IDLE_WAIT / 2


def _settings(bootstrap: str):
    class Settings:
        kafka_bootstrap = bootstrap
        kafka_idempotence = False

    return Settings()


async def _read(bootstrap: str, topic: str, timeout: float) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            values = [record.value for records in batches.values() for record in records]
            if values:
                return values
        return []
    finally:
        await consumer.stop()
