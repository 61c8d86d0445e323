"""Publishes committed outbox rows, then marks them. A crash between the two re-publishes them, which
the consumers' inbox turns into a no-op: at-least-once on the wire, exactly-once in effect."""

import asyncio
import logging

from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from dunning_messaging.sealing import Sealer
from dunning_messaging.tables import MessagingTables
from dunning_platform.metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE, OUTBOX_PUBLISHED

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        session_factory: async_sessionmaker,
        tables: MessagingTables,
        producer: AIOKafkaProducer,
        *,
        lock_name: str,
        sealer: Sealer | None = None,
        batch_size: int = 1000,
        idle_wait: float = 0.5,
    ) -> None:
        self._session_factory = session_factory
        self._outbox = tables.outbox
        self._producer = producer
        self._lock_name = lock_name
        self._sealer = sealer or Sealer(None)
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
        self._wakeup.clear()
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
            rows = (await session.execute(self._unpublished())).all()
            if not rows:
                return 0
            await self._send(rows)
            ids = [row.id for row in rows]
            await session.execute(update(self._outbox).where(self._outbox.c.id.in_(ids)).values(published_at=func.now()))
        return len(rows)

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
        deliveries = []
        for row in rows:
            headers = [(name, value.encode()) for name, value in row.headers]
            value = self._sealer.open(row.value, row.sealed)
            deliveries.append(await self._producer.send(row.topic, value, key=row.key, headers=headers))
        await asyncio.gather(*deliveries)
        for row in rows:
            OUTBOX_PUBLISHED.labels(row.topic).inc()

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
