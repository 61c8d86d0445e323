"""Everything a service runs beside its HTTP routes: engine, producer, outbox relay, consumers, loops."""

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import text

from dunning_contracts import dlq_topic
from dunning_messaging.consumer import ConsumerSpec, EventConsumer
from dunning_messaging.kafka import BrokerMarker, DeadLetterCounter, ensure_topics, make_producer
from dunning_messaging.relay import OutboxRelay, Refill
from dunning_messaging.sealing import Sealer
from dunning_messaging.tables import MessagingTables
from dunning_messaging.uow import UnitOfWork
from dunning_platform.clock import Clock, SystemClock
from dunning_platform.db import make_engine, make_session_factory
from dunning_platform.metrics import DLQ_MESSAGES
from dunning_platform.settings import ServiceSettings
from dunning_platform.tracing import Tracing

log = logging.getLogger(__name__)

GAUGE_TIMEOUT_SECONDS = 10.0

BackgroundLoop = Callable[["Runtime"], Awaitable[None]]


class Runtime:
    def __init__(
        self,
        settings: ServiceSettings,
        tables: MessagingTables,
        *,
        service: str,
        schema: str,
        consumers: list[ConsumerSpec] = (),
        produces: list[str] = (),
        background: list[BackgroundLoop] = (),
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.tables = tables
        self.service = service
        self.schema = schema
        self.clock = clock or SystemClock()
        self._consumer_specs = list(consumers)
        self._topics = sorted({t for spec in consumers for t in spec.topics} | set(produces))
        self._background = list(background)
        self._tasks: list[asyncio.Task] = []
        self.consumers: list[EventConsumer] = []
        self.stopping = asyncio.Event()
        self.started = False
        self._signals: dict[str, asyncio.Event] = {}
        pii_key = settings.pii_key.get_secret_value() if settings.pii_key else None
        self.sealer = Sealer(pii_key)
        self.tracing = Tracing(service, settings.otlp_endpoint)
        if not self.sealer.enabled:
            log.warning("no PII key: raw inbound events and dead letters are kept unencrypted in the outbox")

    def uow(self) -> UnitOfWork:
        return UnitOfWork(
            self.session_factory,
            self.tables,
            source=self.settings.source,
            clock=self.clock,
            on_publish=self.relay.wake,
            sealer=self.sealer,
            signal=self.signal,
            tracing=self.tracing,
        )

    async def start(self) -> None:
        self.engine = make_engine(self.settings.database_url.get_secret_value(), self.schema)
        self.session_factory = make_session_factory(self.engine)
        await ensure_topics(self.settings, self._topics, client_id=self.service)
        self.producer = make_producer(self.settings, client_id=self.service)
        await self.producer.start()
        self.marker = await self._start_marker()
        self.relay = OutboxRelay(
            self.session_factory,
            self.tables,
            self.producer,
            lock_name=f"outbox:{self.schema}",
            sealer=self.sealer,
            refill=self._refill(),
            tracing=self.tracing,
        )
        self._spawn("outbox-relay", self.relay.run())
        self.consumers = [EventConsumer(spec, runtime=self) for spec in self._consumer_specs]
        for consumer in self.consumers:
            self._spawn(f"consumer-{consumer.spec.group_id}", consumer.run())
        if self.marker is not None:
            self._spawn("broker-watch", self._watch_broker())
        for loop in self._background:
            self._spawn(getattr(loop, "__name__", "background"), loop(self))
        self.dead_letters = DeadLetterCounter(self.settings, client_id=self.service)
        await self.dead_letters.start()
        self._gauges = self._spawn("gauges", self._refresh_gauges())
        calm_the_garbage_collector()
        self.started = True

    @property
    def dead_letter_topics(self) -> list[str]:
        """The DLQs this service writes to: one per topic it consumes."""
        return sorted({dlq_topic(t) for spec in self._consumer_specs for t in spec.topics if not t.endswith(".dlq")})

    async def _refresh_gauges(self) -> None:
        """On every replica, not only the one holding the relay lock: a stuck relay shows as a growing
        backlog wherever Prometheus looks, and lag is reported by whoever holds a partition now."""
        interval = self.settings.metrics_interval_seconds
        while True:
            await self.refresh_gauges()
            if await self.sleep_or_stop(interval):
                return

    async def refresh_gauges(self) -> None:
        measurements = [self.relay.measure_backlog(), self._measure_dead_letters()]
        measurements += [consumer.refresh_lag() for consumer in self.consumers]
        # Bounded: with the broker or the database away, a gauge keeps its last value, the loop goes on.
        bounded = [asyncio.wait_for(measurement, GAUGE_TIMEOUT_SECONDS) for measurement in measurements]
        for outcome in await asyncio.gather(*bounded, return_exceptions=True):
            if isinstance(outcome, Exception):
                log.warning("could not refresh a gauge: %r", outcome)

    async def _measure_dead_letters(self) -> None:
        topics = self.dead_letter_topics
        if topics:
            for topic, count in (await self.dead_letters.count(topics)).items():
                DLQ_MESSAGES.labels(topic).set(count)

    async def _start_marker(self) -> BrokerMarker | None:
        if not self.settings.broker_recovery:
            return None
        marker = BrokerMarker(self.settings, self.schema, client_id=self.service)
        await marker.start()
        return marker

    def _refill(self) -> Refill | None:
        if self.marker is None:
            return None
        return Refill(
            marker=self.marker,
            window=timedelta(hours=self.settings.broker_recovery_window_hours),
            grace_seconds=self.settings.broker_recovery_grace_seconds,
            create_topics=lambda: ensure_topics(self.settings, self._topics, client_id=self.service),
        )

    async def _watch_broker(self) -> None:
        """Rewind a consumer when the marker differs from the one it read at its assignment (gone, or
        another replica's relay wrote a new one): the positions it holds point into a log that no longer
        is. What it committed meanwhile is tagged with its old epoch, so no one trusts it either."""
        while not await self.sleep_or_stop(self.settings.broker_check_seconds):
            try:
                current = await self.marker.read()
            except Exception as error:
                log.warning("could not read the broker marker: %r", error)
                continue
            stale = [c for c in self.consumers if c.holds_positions_of_another_epoch(current)]
            if stale:
                log.warning("the broker lost its data: consumers read every partition again from the start")
            for consumer in stale:
                consumer.restart_from_earliest()

    def _spawn(self, name: str, coroutine: Awaitable[None]) -> asyncio.Task:
        task = asyncio.create_task(coroutine, name=name)
        task.add_done_callback(self._report_crash)
        self._tasks.append(task)
        return task

    @staticmethod
    def _report_crash(task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s crashed", task.get_name(), exc_info=task.exception())

    async def stop(self) -> None:
        """Finish the batch in hand, flush the outbox, then close connections."""
        self.stopping.set()
        # A measurement in flight is worth nothing now; it must not hold the shutdown up.
        self._gauges.cancel()
        for consumer in self.consumers:
            consumer.stop()
        self.relay.stop()
        _, pending = await asyncio.wait(self._tasks, timeout=10) if self._tasks else ((), ())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self.marker is not None:
            await self.marker.stop()
        await self.dead_letters.stop()
        await self.producer.stop()
        await self.engine.dispose()
        self.tracing.shutdown()

    async def ready(self) -> tuple[bool, str]:
        if not self.started:
            return False, "starting"
        try:
            async with self.engine.connect() as connection:
                await asyncio.wait_for(connection.execute(text("SELECT 1")), 2)
        except Exception as error:
            return False, f"database: {error}"
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), 2)
        except Exception as error:
            return False, f"broker: {error!r}"
        crashed = [t.get_name() for t in self._tasks if t.done() and not self.stopping.is_set()]
        if crashed:
            return False, f"stopped tasks: {', '.join(crashed)}"
        return True, "ready"

    async def audit(self, *, token_id: str | None, method: str, path: str, status: int, trace_id: str | None) -> None:
        """Record an API write; its own transaction, after the response is known."""
        async with self.session_factory() as session, session.begin():
            await session.execute(
                self.tables.audit_log.insert().values(
                    token_id=token_id, method=method, path=path, status=status, trace_id=trace_id
                )
            )

    def signal(self, name: str) -> None:
        self._signals.setdefault(name, asyncio.Event()).set()

    async def wait_for_signal(self, name: str, seconds: float) -> bool:
        """For background loops: wait until signalled (or `seconds` pass); say whether the service is stopping."""
        event = self._signals.setdefault(name, asyncio.Event())
        waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self.stopping.wait())]
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
        event.clear()
        return self.stopping.is_set()

    async def sleep_or_stop(self, seconds: float) -> bool:
        """For background loops: wait, and say whether the service is stopping."""
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except TimeoutError:
            pass
        return self.stopping.is_set()


def calm_the_garbage_collector() -> None:
    """What exists once a service has started (modules, models, mappers, tables) is frozen out of the
    cyclic collector's sight, and young objects are collected less often. A consumer batch allocates
    hundreds of thousands of short-lived objects; with the defaults, each full collection walked every
    object built at start-up again, to free nothing. Reference cycles are still collected.

    Measured in the pipeline benchmark (collections timed by `gc.callbacks`): 20% of notification's CPU
    went to collections (3.1 s of 22 in full ones), 0.8 s of 20 with this; in ingestion the same had
    been about a third of the Kafka path."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
