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
