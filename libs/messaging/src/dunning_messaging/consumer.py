"""Consumes bus events into a service: inbox dedupe, handler, outbox, commit, and only then the offset.

A poll's records of one topic are first applied in one transaction. If anything in it fails, it is split in halves
until the poison message stands alone; that one is retried, then dead-lettered, while its valid
neighbours are applied."""

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from dunning_contracts import CloudEvent, dlq_topic, parse_data
from dunning_contracts.envelope import MAX_EVENT_BYTES
from dunning_contracts.events import EventData, UnknownEventType
from dunning_platform.tracing import continuing
from dunning_messaging.uow import UnitOfWork
from dunning_platform.errors import DomainError
from dunning_platform.metrics import CONSUMER_LAG, EVENTS_CONSUMED, EVENTS_DEAD_LETTERED

log = logging.getLogger(__name__)

Handler = Callable[[UnitOfWork, CloudEvent, EventData], Awaitable[None]]
# Not an epoch: before the first assignment, and for a partition nobody tagged.
_UNKNOWN = object()


@dataclass(frozen=True)
class Batched:
    """A handler-table entry that takes a run of consecutive new events of its type in one call, so it
    can do set-based work (one statement for many cases) instead of a round trip per event. The run
    shares the batch's transaction: if it fails, the batch splits as any other, down to runs of one."""

    handle: Callable[[UnitOfWork, list[tuple[CloudEvent, EventData]]], Awaitable[None]]


@dataclass
class ConsumerSpec:
    group_id: str
    topics: list[str]
    handlers: dict[str, Handler | Batched]
    # Inbound topics refuse types they do not know; shared topics skip types meant for someone else.
    reject_unknown_types: bool = False
    batch_size: int | None = None
    # Each transaction first takes an advisory lock per record key (the loan id on this platform's topics).
    # With several replicas, one key's partitions of different topics may be held by different members
    # (the assignment keeps no key's topics together), and their transactions would run at once: a
    # LoanBooked and a LoanOverdue of one loan must not each decide without seeing the other's writes.
    lock_keys: bool = False
    # By topic, a test on a record's bytes that is true for records no handler here could want: those are
    # left unread (no parse, no inbox row, no transaction) and their offsets move on with the poll's.
    # For a topic whose events this consumer mostly ignores by their content, not only by their type.
    unread: dict[str, Callable[[bytes], bool]] = field(default_factory=dict)


class InvalidEvent(Exception):
    """The message can never be processed: it goes to the DLQ without retries."""


@dataclass(slots=True)
class Delivery:
    record: ConsumerRecord
    event: CloudEvent | None = None
    data: EventData | None = None
    invalid: str | None = None
    dedupe_key: tuple[str, str] = field(default=("", ""))

    def parse_data(self) -> None:
        """Validate the data, now that the inbox says the event is new: a duplicate is never parsed."""
        if self.event is None or self.data is not None:
            return
        try:
            self.data = parse_data(self.event)
        except (ValidationError, UnknownEventType, ValueError) as error:
            self.invalid = _describe(error, prefix="data.")


def decode(record: ConsumerRecord, spec: ConsumerSpec) -> Delivery | None:
    """Parse one record's envelope; None when it is a type this consumer does not handle, or a record
    its spec leaves unread."""
    unread = spec.unread.get(record.topic)
    if unread is not None and record.value is not None and unread(record.value):
        return None
    try:
        event = _parse_envelope(record, spec)
    except _NotMine:
        return None
    except (InvalidEvent, ValidationError, ValueError) as error:
        # Hashed only here: a readable event is keyed by its source and id.
        return Delivery(record, invalid=_describe(error), dedupe_key=_content_key(record))
    return Delivery(record, event=event, dedupe_key=(event.source, event.id))


class _NotMine(Exception):
    pass


# `CloudEvent.model_validate_json` without its Python frame and keyword checks, once per record.
_validate_envelope = CloudEvent.__pydantic_validator__.validate_json


def _content_key(record: ConsumerRecord) -> tuple[str, str]:
    """The inbox key of a record without a readable id: its content, not its offset, which a broker
    that lost its memory hands out again."""
    digest = hashlib.sha256((record.key or b"") + b"\0" + (record.value or b"")).hexdigest()
    return f"kafka-content:{record.topic}", digest


def _parse_envelope(record: ConsumerRecord, spec: ConsumerSpec) -> CloudEvent:
    if record.value is None:
        raise InvalidEvent("value: the message is empty")
    if len(record.value) > MAX_EVENT_BYTES:
        raise InvalidEvent(f"value: the message has {len(record.value)} bytes, more than {MAX_EVENT_BYTES}")
    # pydantic-core parses the JSON itself: faster, and bounded on deeply nested input.
    event = _validate_envelope(record.value)
    if event.type not in spec.handlers:
        if spec.reject_unknown_types:
            raise InvalidEvent(f"type: unknown event type {event.type!r}")
        raise _NotMine()
    return event


def _describe(error: Exception, prefix: str = "") -> str:
    if isinstance(error, ValidationError):
        return "; ".join(f"{prefix}{'.'.join(str(p) for p in e['loc']) or 'event'}: {e['msg']}" for e in error.errors())
    return str(error)


def _describe_rejection(error: DomainError) -> str:
    if error.field and not error.detail.startswith(error.field):
        return f"{error.field}: {error.detail}"
    return error.detail


class EventConsumer:
    def __init__(self, spec: ConsumerSpec, *, runtime) -> None:
        self.spec = spec
        self._runtime = runtime
        self._settings = runtime.settings
        self._stopping = False
        self._consumer: AIOKafkaConsumer | None = None
        self._restarting = False
        self._rewinding = False
        # The broker epoch read at the last assignment, and the one each held partition's offset was
        # last committed under: an offset is trusted only under the epoch the broker has now.
        self._epoch: object = _UNKNOWN
        self._tags: dict[TopicPartition, object] = {}
        self._committed_without_epoch = False
        # The partitions this consumer reports lag for: dropped from the gauge once no longer assigned.
        self._lagging: set[TopicPartition] = set()

    def stop(self) -> None:
        self._stopping = True

    def holds_positions_of_another_epoch(self, current: str | None) -> bool:
        """Whether the positions held were taken on a broker other than the one the marker says is there.
        Having read without a marker and committed nothing, it may still adopt the first one written."""
        if self._consumer is None or self._restarting or self._epoch is _UNKNOWN or self._epoch == current:
            return False
        return self._epoch is not None or self._committed_without_epoch

    def restart_from_earliest(self) -> None:
        """The broker lost its data: leave the group, join again, and read the partitions assigned then
        from their start, whatever offsets were committed since (a stale position may have been)."""
        self._restarting = self._rewinding = True

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("consumer %s failed; restarting", self.spec.group_id)
                await asyncio.sleep(1)

    async def _consume(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._settings.kafka_bootstrap,
            group_id=self.spec.group_id,
            client_id=f"{self.spec.group_id}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_wait_ms=self._settings.kafka_fetch_max_wait_ms,
        )
        self._consumer = consumer
        self._restarting, self._epoch = False, _UNKNOWN
        consumer.subscribe(self.spec.topics, listener=_CheckingOffsets(consumer, self))
        await consumer.start()
        try:
            while not self._stopping and not self._restarting:
                batch_size = self.spec.batch_size or self._settings.kafka_batch_size
                batches = await consumer.getmany(timeout_ms=200, max_records=batch_size)
                if batches:
                    await self._apply_poll(consumer, batches)
        finally:
            self._consumer = None  # its partitions are no longer this consumer's to report
            await consumer.stop()

    async def _apply_poll(self, consumer: AIOKafkaConsumer, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """A poll's records, a transaction per topic (each partition's records in their order), then every
        partition's offset in one commit. A partition at a time cost a transaction and a broker round trip
        each, and a poll under a trickle of events holds a few records of many partitions."""
        await self.apply_poll(batches)
        next_offsets = {partition: records[-1].offset + 1 for partition, records in batches.items()}
        for partition in next_offsets:
            await self._tag(partition)
        # The offsets move only after the database commits: a crash before this means a redelivery.
        await consumer.commit(next_offsets)
        for partition, offset in next_offsets.items():
            self._record_lag(consumer, partition, offset)

    async def apply_poll(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """Each topic's records in a transaction, one topic after the other; offsets are the caller's."""
        for records in _by_topic(batches).values():
            await self.process(records)

    async def on_assigned(self, consumer: AIOKafkaConsumer, assigned: set[TopicPartition]) -> None:
        try:
            await self._check_offsets(consumer, assigned)
        except Exception as error:
            # The client would log this and go on from the committed offsets. Not knowing whether to trust
            # them: read from the start, commit under no epoch (trusted only while there is no marker),
            # and join again to check once more.
            log.warning("%s could not check its offsets (%r); reading from the start", self.spec.group_id, error)
            self._epoch, self._tags, self._restarting = None, {}, True
            await consumer.seek_to_beginning(*assigned)

    async def _check_offsets(self, consumer: AIOKafkaConsumer, assigned: set[TopicPartition]) -> None:
        """Read from their start the partitions whose offsets were committed under another broker epoch
        than the one there is now (or when a restart asked for all): such an offset was committed by a
        process that had not yet noticed the broker lose its data, at a position of the old log, past
        events of the new one it never read. The inbox makes reading again safe."""
        rewind_all, self._rewinding = self._rewinding, False
        marker = self._runtime.marker
        if marker is None:
            self._epoch = None
            untrusted = assigned if rewind_all else set()
        else:
            self._epoch = await marker.read()
            self._tags = await self._read_tags(assigned)
            self._committed_without_epoch = False
            # No tag: nothing was committed since tagging began (it precedes every commit), so an offset
            # there is as old as the database's upgrade; seeking anyway would read it all again.
            untrusted = {p for p in assigned if rewind_all or self._tags.get(p, self._epoch) != self._epoch}
        if untrusted:
            log.warning("%s reads %d partition(s) from the start", self.spec.group_id, len(untrusted))
            await consumer.seek_to_beginning(*untrusted)

    async def _read_tags(self, partitions: set[TopicPartition]) -> dict[TopicPartition, object]:
        epochs = self._runtime.tables.consumer_epochs
        query = select(epochs.c.topic, epochs.c.partition, epochs.c.epoch).where(epochs.c.group_id == self.spec.group_id)
        async with self._runtime.session_factory() as session:
            rows = (await session.execute(query)).all()
        tags = {TopicPartition(r.topic, r.partition): r.epoch for r in rows}
        return {partition: tags[partition] for partition in partitions if partition in tags}

    async def _tag(self, partition: TopicPartition) -> None:
        """Record the epoch an offset is committed under before committing it; only when it changes, so
        about once per partition and assignment."""
        if self._runtime.marker is None or self._tags.get(partition, _UNKNOWN) == self._epoch:
            return
        epochs = self._runtime.tables.consumer_epochs
        values = {"group_id": self.spec.group_id, "topic": partition.topic, "partition": partition.partition}
        statement = insert(epochs).values(**values, epoch=self._epoch)
        statement = statement.on_conflict_do_update(
            index_elements=list(values), set_={"epoch": statement.excluded.epoch, "tagged_at": statement.excluded.tagged_at}
        )
        async with self._runtime.session_factory() as session, session.begin():
            await session.execute(statement)
        self._tags[partition] = self._epoch
        self._committed_without_epoch |= self._epoch is None

    def _record_lag(self, consumer: AIOKafkaConsumer, partition: TopicPartition, next_offset: int) -> None:
        end = consumer.highwater(partition)
        if end is not None:
            self._set_lag(partition, end - next_offset)

    def _set_lag(self, partition: TopicPartition, lag: int) -> None:
        self._lagging.add(partition)
        CONSUMER_LAG.labels(self.spec.group_id, partition.topic, str(partition.partition)).set(max(lag, 0))

    async def refresh_lag(self) -> None:
        """Lag of the partitions held now: the broker's end offsets minus the committed ones. Called on a
        timer, so an idle or hung consumer's lag still moves, and a partition it lost is no longer reported
        (its new owner reports it). On Tansu an end may fall short by the rest of the last record batch."""
        consumer = self._consumer
        assigned = set(consumer.assignment()) if consumer is not None and not self._restarting else set()
        self._forget_lag(self._lagging - assigned)
        if not assigned:
            return
        ends = await consumer.end_offsets(list(assigned))
        starts = await consumer.beginning_offsets(list(assigned))
        for partition in assigned & set(consumer.assignment()):
            committed = await consumer.committed(partition)
            self._set_lag(partition, ends[partition] - (committed if committed is not None else starts[partition]))

    def _forget_lag(self, partitions: set[TopicPartition]) -> None:
        for partition in partitions:
            self._lagging.discard(partition)
            try:
                CONSUMER_LAG.remove(self.spec.group_id, partition.topic, str(partition.partition))
            except KeyError:
                pass  # another consumer of the group in this process dropped it first

    async def process(self, records: list[ConsumerRecord]) -> None:
        deliveries = [d for d in (decode(r, self.spec) for r in records) if d is not None]
        if deliveries:
            await self._apply_or_split(deliveries)

    async def _apply_or_split(self, deliveries: list[Delivery]) -> None:
        """All in one transaction; if that fails, each half on its own, down to single events, so a
        poison message costs a few extra transactions, not one per event of the batch."""
        if len(deliveries) == 1:
            return await self._process_alone(deliveries[0])
        try:
            async with self._runtime.uow() as uow:
                await self._apply(uow, deliveries)
                await uow.commit()
            return
        except Exception as error:
            log.warning("batch of %d failed (%r); splitting it", len(deliveries), error)
        middle = len(deliveries) // 2
        await self._apply_or_split(deliveries[:middle])
        await self._apply_or_split(deliveries[middle:])

    async def _apply(self, uow: UnitOfWork, deliveries: list[Delivery]) -> None:
        topic = deliveries[0].record.topic
        if self.spec.lock_keys:
            await lock_keys(uow, self.spec.group_id, [d.record.key for d in deliveries])
        fresh = await uow.claim([d.dedupe_key for d in deliveries], topic=topic)
        ready, duplicates = [], Counter()
        for delivery in deliveries:
            if delivery.dedupe_key not in fresh:
                duplicates[_type_of(delivery)] += 1
                continue
            fresh.discard(delivery.dedupe_key)
            delivery.parse_data()
            if delivery.invalid:
                self._dead_letter(uow, delivery, "invalid", delivery.invalid)
                continue
            ready.append(delivery)
        _count(topic, "duplicate", duplicates)
        for handler, run in _runs(ready, self.spec.handlers):
            await _handle(uow, handler, run)
            _count(topic, "applied", Counter(delivery.event.type for delivery in run))

    async def _process_alone(self, delivery: Delivery) -> None:
        attempts = self._settings.kafka_max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                async with self._runtime.uow() as uow:
                    await self._apply(uow, [delivery])
                    await uow.commit()
                return
            except DomainError as error:
                return await self._dead_letter_alone(delivery, "rejected", _describe_rejection(error))
            except Exception as error:
                log.warning("event failed (attempt %d of %d): %r", attempt, attempts, error)
                last_error = error
                if attempt < attempts:
                    await asyncio.sleep(self._settings.kafka_retry_backoff_ms / 1000 * 2 ** (attempt - 1))
        await self._dead_letter_alone(delivery, "failed", f"{type(last_error).__name__}: {last_error}")

    async def _dead_letter_alone(self, delivery: Delivery, reason: str, error: str) -> None:
        # Its own inbox key: a redelivery is not dead-lettered twice, yet a re-driven copy is applied.
        source, event_id = delivery.dedupe_key
        async with self._runtime.uow() as uow:
            if await uow.claim([(f"dlq:{source}", event_id)], topic=delivery.record.topic):
                self._dead_letter(uow, delivery, reason, error)
            await uow.commit()

    def _dead_letter(self, uow: UnitOfWork, delivery: Delivery, reason: str, error: str) -> None:
        record = delivery.record
        log.warning("dead-lettering %s/%d@%d: %s", record.topic, record.partition, record.offset, error)
        EVENTS_DEAD_LETTERED.labels(record.topic, reason).inc()
        headers = [(k, v.decode(errors="replace")) for k, v in (record.headers or ())] + [
            ("dlq-reason", reason),
            ("dlq-error", error[:4000]),
            ("dlq-service", self.spec.group_id),
            ("dlq-original-topic", record.topic),
            ("dlq-original-partition", str(record.partition)),
            ("dlq-original-offset", str(record.offset)),
            ("dlq-failed-at", datetime.now(UTC).isoformat()),
        ]
        uow.publish_raw(dlq_topic(record.topic), record.key, record.value or b"", headers)


# In one order (by key), before anything else in the transaction, so two of them cannot deadlock: one
# that waits holds nothing but locks ordered before the one it waits for.
_LOCK_KEYS = text("""
    SELECT count(pg_advisory_xact_lock(k))
    FROM (SELECT DISTINCT hashtextextended(:group || ':' || key, 0) AS k
          FROM unnest(CAST(:keys AS text[])) AS key ORDER BY 1) AS keys
""")


async def lock_keys(uow: UnitOfWork, group_id: str, keys: list[bytes | None]) -> None:
    """Advisory locks, held to the end of the transaction, on the records' keys within the consumer group;
    a record without a key locks nothing."""
    named = sorted({key.decode(errors="replace") for key in keys if key})
    if named:
        await uow.session.execute(_LOCK_KEYS, {"group": group_id, "keys": named})


class _CheckingOffsets(ConsumerRebalanceListener):
    def __init__(self, consumer: AIOKafkaConsumer, owner: EventConsumer) -> None:
        self._consumer, self._owner = consumer, owner

    async def on_partitions_revoked(self, revoked) -> None:
        pass

    async def on_partitions_assigned(self, assigned) -> None:
        if assigned:
            await self._owner.on_assigned(self._consumer, set(assigned))


def _by_topic(batches: dict[TopicPartition, list[ConsumerRecord]]) -> dict[str, list[ConsumerRecord]]:
    """The records of each topic, partition after partition: one partition's stay in their order, and
    partitions hold different keys, so applying them together changes no key's order. One topic per
    transaction, since the inbox claims a batch under its topic."""
    by_topic: dict[str, list[ConsumerRecord]] = {}
    for partition, records in batches.items():
        by_topic.setdefault(partition.topic, []).extend(records)
    return by_topic


def _runs(deliveries: list[Delivery], handlers: dict) -> list[tuple[object, list[Delivery]]]:
    """Consecutive deliveries handled by one Batched entry go together; every other one alone. Order is kept."""
    runs: list[tuple[object, list[Delivery]]] = []
    for delivery in deliveries:
        handler = handlers[delivery.event.type]
        if runs and runs[-1][0] is handler and isinstance(handler, Batched):
            runs[-1][1].append(delivery)
        else:
            runs.append((handler, [delivery]))
    return runs


async def _handle(uow: UnitOfWork, handler, run: list[Delivery]) -> None:
    # A run continues the trace of its first event: one span of work, however many events it holds.
    with _consuming(uow, run):
        if isinstance(handler, Batched):
            return await handler.handle(uow, [(d.event, d.data) for d in run])
        await handler(uow, run[0].event, run[0].data)


def _consuming(uow: UnitOfWork, run: list[Delivery]):
    first = run[0]
    if uow.tracing is None:
        return continuing(_traceparent_of(first))
    attributes = {
        "messaging.destination.name": first.record.topic,
        "messaging.batch.message_count": len(run),
        "cloudevents.event_id": first.event.id,
        "cloudevents.event_subject": first.event.subject or "",
    }
    return uow.tracing.span(f"consume {first.event.type}", _traceparent_of(first), kind="consumer", attributes=attributes)


def _traceparent_of(delivery: Delivery) -> str | None:
    for name, value in delivery.record.headers or ():
        if name == "traceparent":
            return value.decode(errors="replace")
    return getattr(delivery.event, "traceparent", None)


def _count(topic: str, outcome: str, by_type: Counter) -> None:
    # Once per type and batch: a label lookup per event cost more than the counting.
    for type_name, count in by_type.items():
        EVENTS_CONSUMED.labels(topic, type_name, outcome).inc(count)


def _type_of(delivery: Delivery) -> str:
    return delivery.event.type if delivery.event else "invalid"
