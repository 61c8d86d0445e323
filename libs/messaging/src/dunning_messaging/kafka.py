"""Producer and topic set-up, with everything the embedded broker lacks behind settings."""

import asyncio
import logging
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from dunning_contracts import dlq_topic
from dunning_platform.settings import ServiceSettings

log = logging.getLogger(__name__)
TOPIC_ALREADY_EXISTS = 36


def make_producer(settings: ServiceSettings, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        linger_ms=5,
        max_batch_size=256 * 1024,
        max_request_size=2 * 1024 * 1024,
    )


def with_dead_letter_topics(topics: list[str]) -> list[str]:
    names = [t for t in topics if not t.endswith(".dlq")]
    return sorted(set(names) | {dlq_topic(t) for t in names})


async def ensure_topics(settings: ServiceSettings, topics: list[str], client_id: str) -> None:
    """Create the topics (and their DLQs) a service uses; existing ones are left as they are."""
    await _create_missing(settings, with_dead_letter_topics(topics), client_id, settings.kafka_partitions)


async def _create_missing(settings: ServiceSettings, topics: list[str], client_id: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id=client_id)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if not missing:
            return
        new = [NewTopic(t, partitions, settings.kafka_replication_factor) for t in missing]
        response = await admin.create_topics(new)
        for topic, code, *_ in getattr(response, "topic_errors", []) or getattr(response, "topics", []):
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise RuntimeError(f"could not create topic {topic}: error {code}")
        log.info("created topics", extra={"topics": missing})
    finally:
        await admin.close()


def marker_topic(schema: str) -> str:
    return f"_dunning.broker-marker.{schema}"


class BrokerMarker:
    """A record a service leaves on the broker and looks for: when it is gone, the broker lost its data.
    The embedded broker says nothing else (its cluster id is fixed, and after a restart it creates any
    topic anyone asks about, empty), and on a real cluster a lost topic looks the same."""

    def __init__(self, settings: ServiceSettings, schema: str, client_id: str) -> None:
        self._settings = settings
        self._client_id = client_id
        self.topic = marker_topic(schema)
        self._partition = TopicPartition(self.topic, 0)
        self._reader: AIOKafkaConsumer | None = None
        # The watch and every consumer's assignment read it: one seek-and-fetch at a time on the reader.
        self._reading = asyncio.Lock()

    async def start(self) -> None:
        await _create_missing(self._settings, [self.topic], self._client_id, partitions=1)
        reader = AIOKafkaConsumer(
            bootstrap_servers=self._settings.kafka_bootstrap, client_id=f"{self._client_id}-marker", group_id=None
        )
        await reader.start()
        reader.assign([self._partition])
        self._reader = reader

    async def stop(self) -> None:
        if self._reader is not None:
            await self._reader.stop()

    async def present(self) -> bool:
        return await self._end() > 0

    async def read(self) -> str | None:
        """The epoch written last, or None when there is no marker."""
        async with self._reading:
            end = await self._end()
            if end == 0:
                return None
            self._reader.seek(self._partition, end - 1)
            record = await asyncio.wait_for(self._reader.getone(self._partition), 5)
            return record.value.decode()

    async def write(self, producer: AIOKafkaProducer) -> str:
        """A new epoch: every replica that remembers another one knows the broker lost its data."""
        await _create_missing(self._settings, [self.topic], self._client_id, partitions=1)
        epoch = uuid.uuid4().hex
        await producer.send_and_wait(self.topic, epoch.encode(), partition=0)
        return epoch

    async def _end(self) -> int:
        ends = await asyncio.wait_for(self._reader.end_offsets([self._partition]), 5)
        return ends[self._partition]


class DeadLetterCounter:
    """Counts the records on dead-letter topics from their offsets, with a reader of its own.

    Kafka reports a partition's end as the offset after its last record; Tansu as the first offset of its
    last record batch + 1, which falls short when that batch holds several records (the relay sends dead
    letters in batches). So the last batch is read once per new end, and its last record's offset + 1 is
    the end: exact on both. A record batch is fetched whole, so one read finds its last record."""

    def __init__(self, settings: ServiceSettings, client_id: str) -> None:
        self._settings = settings
        self._client_id = client_id
        self._reader: AIOKafkaConsumer | None = None
        # Reported end -> true end, per partition; the read is repeated only when the reported end moves.
        self._ends: dict[TopicPartition, tuple[int, int]] = {}

    async def start(self) -> None:
        self._reader = AIOKafkaConsumer(
            bootstrap_servers=self._settings.kafka_bootstrap, client_id=f"{self._client_id}-dlq-gauge", group_id=None
        )
        await self._reader.start()

    async def stop(self) -> None:
        if self._reader is not None:
            await self._reader.stop()

    async def count(self, topics: list[str]) -> dict[str, int]:
        """Records per topic, as the broker holds them now."""
        partitions = await self._partitions(topics)
        if not partitions:
            return {topic: 0 for topic in topics}
        starts = await asyncio.wait_for(self._reader.beginning_offsets(partitions), 5)
        ends = await asyncio.wait_for(self._reader.end_offsets(partitions), 5)
        counts = dict.fromkeys(topics, 0)
        for partition in partitions:
            counts[partition.topic] += await self._true_end(partition, starts[partition], ends[partition]) - starts[partition]
        return counts

    async def _partitions(self, topics: list[str]) -> list[TopicPartition]:
        known = await self._reader.topics()  # refreshes the metadata
        found = [TopicPartition(t, p) for t in topics if t in known for p in self._reader.partitions_for_topic(t) or ()]
        if set(found) != self._reader.assignment():
            self._reader.assign(found)
        return found

    async def _true_end(self, partition: TopicPartition, start: int, reported: int) -> int:
        if reported <= start:
            return reported
        cached = self._ends.get(partition)
        if cached is not None and cached[0] == reported:
            return cached[1]
        self._reader.seek(partition, reported - 1)
        fetched = await self._reader.getmany(partition, timeout_ms=2000)
        offsets = [record.offset for record in fetched.get(partition, ())]
        if not offsets:
            return reported  # not fetched in time: the reported end for now, read again next time
        end = max(max(offsets) + 1, reported)
        self._ends[partition] = (reported, end)
        return end
