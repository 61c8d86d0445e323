"""Producer and topic set-up, with everything the embedded broker lacks behind settings."""

import logging

from aiokafka import AIOKafkaProducer
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
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id=client_id)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in with_dead_letter_topics(topics) if t not in existing]
        if not missing:
            return
        new = [NewTopic(t, settings.kafka_partitions, settings.kafka_replication_factor) for t in missing]
        response = await admin.create_topics(new)
        for topic, code, *_ in getattr(response, "topic_errors", []) or getattr(response, "topics", []):
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise RuntimeError(f"could not create topic {topic}: error {code}")
        log.info("created topics", extra={"topics": missing})
    finally:
        await admin.close()
