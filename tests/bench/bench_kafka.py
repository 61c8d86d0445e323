"""Kafka plumbing of the benchmark: topics, the services' own producer settings, and an observer that
records when each event appears on a topic."""

import asyncio
import json
import time
from collections.abc import Callable
from types import SimpleNamespace

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from dunning_contracts import Topics, dlq_topic
from dunning_messaging.kafka import make_producer

PARTITIONS = 4  # ServiceSettings.kafka_partitions: the services create their topics with this many


async def create_topics(bootstrap: str, topics: list[str], partitions: int = PARTITIONS) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            await admin.create_topics([NewTopic(t, partitions, 1) for t in missing])
    finally:
        await admin.close()


async def create_bus_topics(bootstrap: str) -> None:
    """Every contract topic and its DLQ, so observers can attach before the services start."""
    await create_topics(bootstrap, [*Topics.ALL, *(dlq_topic(t) for t in Topics.ALL)])


def producer(bootstrap: str) -> AIOKafkaProducer:
    """Exactly the producer the services use (acks=all, linger 5 ms, no idempotence on Tansu)."""
    return make_producer(SimpleNamespace(kafka_bootstrap=bootstrap, kafka_idempotence=False), client_id="bench")


async def produce(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> float:
    """Send all, wait for every acknowledgement; returns the seconds it took."""
    sender = producer(bootstrap)
    await sender.start()
    try:
        started = time.perf_counter()
        await send_all(sender, topic, messages)
        return time.perf_counter() - started
    finally:
        await sender.stop()


async def send_all(sender: AIOKafkaProducer, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    pending = [await sender.send(topic, value, key=key) for key, value in messages]
    await asyncio.gather(*pending)


async def consume_and_parse(bootstrap: str, topic: str, expected: int, timeout: float) -> float:
    """Read `expected` messages from the start of `topic` and json-parse each; returns the seconds."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                max_partition_fetch_bytes=4 * 1024 * 1024)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(await _partitions(consumer, topic))]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        seen, started = 0, time.perf_counter()
        while seen < expected:
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"read {seen} of {expected} messages in {timeout:.0f} s")
            batches = await consumer.getmany(timeout_ms=200, max_records=5_000)
            for records in batches.values():
                for record in records:
                    json.loads(record.value)
                seen += len(records)
        return time.perf_counter() - started
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(50):
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            return partitions
        await consumer.topics()  # refreshes the cluster metadata
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} has no partitions")


class Observer:
    """Watches topics from their current end; calls `on_event(topic, receipt_time, event)` per message.
    Receipt times are time.monotonic(), so latencies between two topics use one clock."""

    def __init__(self, bootstrap: str, topics: list[str], on_event: Callable[[str, float, dict], None]) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self._on_event = on_event
        self._task: asyncio.Task | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        # A short fetch wait: on the embedded broker the observer's own wait would be part of every latency.
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False,
                                          max_partition_fetch_bytes=4 * 1024 * 1024, fetch_max_wait_ms=100)
        await self._consumer.start()
        partitions = []
        for topic in self._topics:
            partitions += [TopicPartition(topic, p) for p in sorted(await _partitions(self._consumer, topic))]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for partition in partitions:
            # Resolve the end offset now, so nothing produced after start() is skipped.
            await self._consumer.position(partition)
        self._task = asyncio.create_task(self._run(), name="bench-observer")

    async def _run(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100, max_records=5_000)
            received = time.monotonic()
            for records in batches.values():
                for record in records:
                    self._on_event(record.topic, received, json.loads(record.value))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer:
            await self._consumer.stop()
