"""Publishes committed outbox rows, then marks them. A crash between the two re-publishes them, which
the consumers' inbox turns into a no-op: at-least-once on the wire, exactly-once in effect.

When the broker lost its data (the service's marker record is gone, checked before every send), the
rows of the recovery window are marked unpublished again under the relay's lock, before any newer row
is sent: they go out first, in outbox order, and the newer rows after them."""

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import Table, TextClause, func, select, text, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from dunning_messaging.kafka import BrokerMarker
from dunning_messaging.partitioning import partition_of
from dunning_messaging.sealing import Sealer
from dunning_messaging.tables import MessagingTables
from dunning_platform.metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE, OUTBOX_PUBLISHED
from dunning_platform.tracing import Tracing, child_traceparent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refill:
    """How the relay refills a broker that lost its data."""

    marker: BrokerMarker
    window: timedelta
    grace_seconds: float
    create_topics: Callable[[], Awaitable[None]]


class OutboxRelay:
    def __init__(
        self,
        session_factory: async_sessionmaker,
        tables: MessagingTables,
        producer: AIOKafkaProducer,
        *,
        lock_name: str,
        sealer: Sealer | None = None,
        refill: Refill | None = None,
        tracing: Tracing | None = None,
        batch_size: int = 1000,
        idle_wait: float = 0.5,
    ) -> None:
        self._session_factory = session_factory
        self._outbox = tables.outbox
        self._producer = producer
        self._lock_name = lock_name
        self._sealer = sealer or Sealer(None)
        self._refill = refill
        self._tracing = tracing if tracing is not None and tracing.enabled else None
        self._batch_size = batch_size
        self._idle_wait = idle_wait
        self._wakeup = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wakeup.set()

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()

    async def run(self) -> None:
        while not self._stopping:
            # Cleared before the batch, not after it: a unit of work that commits while the batch is
            # at the broker wakes the next one, instead of waiting out the idle wait.
            self._wakeup.clear()
            try:
                published = await self.publish_batch()
            except Exception:
                log.exception("outbox relay failed; retrying")
                published = 0
                await asyncio.sleep(1)
            if published < self._batch_size:
                await self._wait_for_work()
        await self._drain()

    async def _wait_for_work(self) -> None:
        try:
            await asyncio.wait_for(self._wakeup.wait(), self._idle_wait)
        except TimeoutError:
            pass

    async def _drain(self) -> None:
        try:
            while await self.publish_batch() == self._batch_size:
                pass
        except Exception:
            log.exception("outbox relay could not drain before stopping; rows stay for the next start")

    async def publish_batch(self) -> int:
        async with self._session_factory() as session, session.begin():
            # One active relay per service keeps each loan's events in commit order across replicas.
            locked = await session.scalar(text("SELECT pg_try_advisory_xact_lock(hashtext(:n))"), {"n": self._lock_name})
            if not locked:
                return 0
            # Checked before every send: a row published to a broker that lost its data would go out
            # ahead of the older rows the refill publishes again.
            if not await self._broker_lost():
                return await self._publish(session)
        await self._refill_broker()
        return self._batch_size

    async def _publish(self, session) -> int:
        rows = (await session.execute(self._unpublished())).all()
        if not rows:
            return 0
        await self._send(rows)
        # One text parameter: an IN list bound and encoded a parameter per row.
        ids = "{" + ",".join(str(row.id) for row in rows) + "}"
        await session.execute(_mark_published(self._outbox), {"ids": ids})
        return len(rows)

    async def _broker_lost(self) -> bool:
        return self._refill is not None and not await self._refill.marker.present()

    async def _refill_broker(self) -> None:
        """Mark the window unpublished and write the marker again, holding the relay lock at session
        level throughout, so no other replica publishes or writes a marker during the grace period."""
        lock = {"n": self._lock_name}
        async with self._session_factory.kw["bind"].connect() as connection:
            if not await connection.scalar(text("SELECT pg_try_advisory_lock(hashtext(:n))"), lock):
                return
            try:
                await self._refill_holding_the_lock(connection)
            finally:
                await connection.execute(text("SELECT pg_advisory_unlock(hashtext(:n))"), lock)
                await connection.commit()

    async def _refill_holding_the_lock(self, connection) -> None:
        if await self._refill.marker.present():
            return  # another replica refilled it before this one took the lock
        marked = await self._mark_window_unpublished(connection)
        # Committed before the marker is written: if this process dies in between, the marker is still
        # missing and the next relay marks the window again.
        await connection.commit()
        await self._refill.create_topics()
        if marked:
            log.warning("the broker lost its data: publishing %d outbox row(s) of the recovery window again", marked)
            # Consumers of every service first notice the missing marker and rewind (grace > their
            # check interval); then the refill starts, so none of them reads it from a stale offset.
            await asyncio.sleep(self._refill.grace_seconds)
        await self._refill.marker.write(self._producer)

    async def _mark_window_unpublished(self, connection) -> int:
        o = self._outbox
        since = func.now() - self._refill.window
        result = await connection.execute(
            update(o).where(o.c.published_at.is_not(None), o.c.created_at >= since).values(published_at=None)
        )
        return result.rowcount

    def _unpublished(self):
        o = self._outbox
        return (
            select(o.c.id, o.c.topic, o.c.key, o.c.value, o.c.sealed, o.c.headers)
            .where(o.c.published_at.is_(None))
            .order_by(o.c.id)
            .limit(self._batch_size)
            .with_for_update(skip_locked=True)
        )

    async def _send(self, rows) -> None:
        if self._tracing is None:
            deliveries = await self._send_batched(rows)
        else:
            deliveries = [await self._send_in_span(row, self._sealer.open(row.value, row.sealed)) for row in rows]
        await asyncio.gather(*deliveries)
        for topic, count in Counter(row.topic for row in rows).items():
            OUTBOX_PUBLISHED.labels(topic).inc(count)

    async def _send_batched(self, rows) -> list:
        """The rows as one record batch per partition (a new one when full), each partition's in outbox
        order: a send per row cost a future, a partitioning and a queueing each. Batches of a partition
        are queued in order, and the producer sends a partition's batches in the order queued."""
        deliveries, filling, partitions = [], {}, {}
        for row in rows:
            target = (row.topic, await self._partition_of(row, partitions))
            batch = filling[target] if target in filling else self._producer.create_batch()
            if not self._append(batch, row):
                deliveries.append(await self._producer.send_batch(batch, target[0], partition=target[1]))
                batch = self._producer.create_batch()
                self._append(batch, row)  # a batch takes its first record whatever its size
            filling[target] = batch
        for (topic, partition), batch in filling.items():
            deliveries.append(await self._producer.send_batch(batch, topic, partition=partition))
        return deliveries

    def _append(self, batch, row) -> bool:
        headers = [(name, content.encode()) for name, content in row.headers]
        value = self._sealer.open(row.value, row.sealed)
        return batch.append(key=row.key, value=value, timestamp=None, headers=headers) is not None

    async def _partition_of(self, row, partitions: dict[str, tuple[int, ...]]) -> int:
        """Where `send` would put the row: the producer's default partitioner (murmur2 of the key, as
        Kafka's own clients), over the topic's partitions sorted by id, as it is given them."""
        every = partitions.get(row.topic)
        if every is None:
            every = partitions[row.topic] = tuple(sorted(await self._producer.partitions_for(row.topic)))
        if row.key is None:
            return DefaultPartitioner()(None, list(every), list(every))  # a random one, as `send` picks
        return partition_of(row.key, every)

    async def _send_in_span(self, row, value: bytes):
        """A publish span, child of the span that emitted the row; its consumers continue from it."""
        emitted_in = next((content for name, content in row.headers if name == "traceparent"), None)
        attributes = {"messaging.destination.name": row.topic, "messaging.operation.type": "send"}
        with self._tracing.span(f"publish {row.topic}", emitted_in, kind="producer", attributes=attributes):
            published_in = child_traceparent()
            headers = [
                (name, (published_in if name == "traceparent" else content).encode()) for name, content in row.headers
            ]
            return await self._producer.send(row.topic, value, key=row.key, headers=headers)

    async def measure_backlog(self) -> None:
        async with self._session_factory() as session:
            o = self._outbox
            count, oldest = (
                await session.execute(
                    select(func.count(), func.extract("epoch", func.now() - func.min(o.c.created_at))).where(
                        o.c.published_at.is_(None)
                    )
                )
            ).one()
        OUTBOX_BACKLOG.set(count)
        OUTBOX_OLDEST_AGE.set(float(oldest or 0))


@cache
def _mark_published(outbox: Table) -> TextClause:
    return text(
        f"UPDATE {outbox.schema}.{outbox.name} SET published_at = now() "
        "WHERE id = ANY(CAST(CAST(:ids AS text) AS bigint[]))"
    )
