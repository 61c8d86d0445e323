"""`ConsumerSpec.lock_keys` against real PostgreSQL: two replicas of a consumer group, each holding one
topic's partition, apply one loan's events of the two topics one transaction after the other, the
second seeing what the first committed; different loans' events they apply at once."""

import asyncio
import time
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from sqlalchemy import Column, Table, Text, func, insert, select

from dunning_contracts import CloudEvent
from dunning_messaging import ConsumerSpec, messaging_tables
from dunning_messaging.consumer import EventConsumer
from dunning_messaging.testing import database_with_messaging_tables
from dunning_messaging.uow import UnitOfWork
from dunning_platform.clock import SystemClock
from dunning_platform.db import make_engine, make_session_factory, service_metadata

SCHEMA = "concurrenttopics"
metadata = service_metadata(SCHEMA)
tables = messaging_tables(metadata)
applied = Table("applied", metadata, Column("event_id", Text, primary_key=True), Column("loan_id", Text))
HELD_FOR = 0.5  # how long each handler keeps its transaction open


class Settings:
    kafka_batch_size = 500
    kafka_max_retries = 0
    kafka_retry_backoff_ms = 10


class Runtime:
    """What EventConsumer uses of a service's runtime to apply records; no broker, no relay."""

    def __init__(self, session_factory) -> None:
        self.settings, self.tables, self.marker = Settings(), tables, None
        self.session_factory = session_factory

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, tables, source="urn:test:concurrent-topics", clock=SystemClock())


@pytest.fixture
async def session_factory(postgres_admin_url):
    url = await database_with_messaging_tables(postgres_admin_url, "topics", [SCHEMA], also=_applied_table)
    engine = make_engine(url, SCHEMA, pool_size=4)
    yield make_session_factory(engine)
    await engine.dispose()


def _applied_table(operations) -> None:
    operations.create_table("applied", Column("event_id", Text, primary_key=True), Column("loan_id", Text), schema=SCHEMA)


class Recorder:
    """A LoanClosed handler that notes when it ran and how many of its loan's events it saw committed."""

    def __init__(self) -> None:
        self.runs: dict[str, tuple[float, float, int]] = {}

    async def __call__(self, uow: UnitOfWork, event: CloudEvent, data) -> None:
        started = time.monotonic()
        seen = await uow.session.scalar(select(func.count()).select_from(applied).where(applied.c.loan_id == data.loan_id))
        await uow.session.execute(insert(applied).values(event_id=event.id, loan_id=data.loan_id))
        await asyncio.sleep(HELD_FOR)
        self.runs[event.id] = (started, time.monotonic(), seen)


def _replicas(session_factory, recorder: Recorder, *, lock_keys: bool) -> list[EventConsumer]:
    """Two members of one group, one holding topic-a's partition, the other topic-b's."""
    spec = ConsumerSpec("topics-test", ["topic-a", "topic-b"], {"LoanClosed": recorder}, lock_keys=lock_keys)
    return [EventConsumer(spec, runtime=Runtime(session_factory)) for _ in range(2)]


async def _apply_at_once(replicas: list[EventConsumer], a: tuple[str, str], b: tuple[str, str]) -> None:
    """(loan id, event id) on topic-a to the first replica and on topic-b to the second, at the same time."""
    first, second = replicas
    await asyncio.gather(first.apply_poll(_poll(("topic-a", *a))), second.apply_poll(_poll(("topic-b", *b))))


def _poll(*records: tuple[str, str, str]) -> dict[TopicPartition, list[ConsumerRecord]]:
    """(topic, loan id, event id) each: one record per topic's partition 0."""
    return {TopicPartition(topic, 0): [_record(topic, loan_id, event_id)] for topic, loan_id, event_id in records}


def _record(topic: str, loan_id: str, event_id: str) -> ConsumerRecord:
    now = datetime.now(UTC)
    value = CloudEvent(
        specversion="1.0", id=event_id, source="urn:test", type="LoanClosed", time=now, subject=loan_id,
        data={"loan_id": loan_id, "reason": "repaid", "closed_at": now.isoformat()},
    ).to_json_bytes()
    key = loan_id.encode()
    return ConsumerRecord(topic, 0, 0, 0, 0, key, value, None, len(key), len(value), [])


def _ids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


def _overlap(first: tuple[float, float, int], second: tuple[float, float, int]) -> bool:
    return first[0] < second[1] and second[0] < first[1]


async def test_one_loans_events_on_two_replicas_take_turns_and_the_second_sees_the_first(session_factory):
    recorder = Recorder()
    a, b = _ids(2)

    await _apply_at_once(_replicas(session_factory, recorder, lock_keys=True), ("L-1", a), ("L-1", b))

    first, second = sorted((recorder.runs[a], recorder.runs[b]))
    assert not _overlap(first, second)
    assert (first[2], second[2]) == (0, 1)  # the second transaction read the first one's committed row


async def test_different_loans_on_two_replicas_are_applied_at_once(session_factory):
    recorder = Recorder()
    a, b = _ids(2)

    await _apply_at_once(_replicas(session_factory, recorder, lock_keys=True), ("L-2", a), ("L-3", b))

    assert _overlap(recorder.runs[a], recorder.runs[b])


async def test_without_the_locks_one_loans_events_run_at_once_and_neither_sees_the_other(session_factory):
    """What the setting prevents: each decides on a state without the other's writes."""
    recorder = Recorder()
    a, b = _ids(2)

    await _apply_at_once(_replicas(session_factory, recorder, lock_keys=False), ("L-4", a), ("L-4", b))

    assert _overlap(recorder.runs[a], recorder.runs[b])
    assert (recorder.runs[a][2], recorder.runs[b][2]) == (0, 0)
