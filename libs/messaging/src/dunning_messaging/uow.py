"""The unit of work: one transaction holding a service's state change and the events it causes."""

import gc
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache

from pydantic import BaseModel
from pydantic_core import to_json
from sqlalchemy import Table, TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dunning_contracts import TOPIC_OF_TYPE, CloudEvent, new_event
from dunning_messaging.sealing import Sealer
from dunning_messaging.tables import MessagingTables
from dunning_platform.tracing import Tracing, child_traceparent
from dunning_platform.clock import Clock

Header = tuple[str, str]


class UnitOfWork:
    def __init__(
        self,
        session_factory: async_sessionmaker,
        tables: MessagingTables,
        *,
        source: str,
        clock: Clock,
        on_publish: Callable[[], None] = lambda: None,
        sealer: Sealer | None = None,
        signal: Callable[[str], None] = lambda name: None,
        tracing: Tracing | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._tables = tables
        self._source = source
        self._on_publish = on_publish
        self._sealer = sealer or Sealer(None)
        self._signal = signal
        self._signals_after_commit: set[str] = set()
        self._wrote_outbox = False
        self.clock = clock
        # Only when spans are recorded: otherwise the consumer just carries the trace context.
        self.tracing = tracing if tracing is not None and tracing.enabled else None
        self.session: AsyncSession
        self.emitted: list[CloudEvent] = []
        self._pending: list[tuple] = []  # outbox rows, columns in the order _outbox_statement reads them

    @property
    def source(self) -> str:
        """The CloudEvent source stamped on what this unit of work emits (the service's settings.source)."""
        return self._source

    async def __aenter__(self) -> "UnitOfWork":
        self.session = self._session_factory()
        self._paused_collector = pause_the_garbage_collector()
        return self

    async def __aexit__(self, *exc_info) -> None:
        try:
            await self.session.rollback()
            await self.session.close()
        finally:
            if self._paused_collector:
                gc.enable()

    def emit(self, type_name: str, data: BaseModel, *, subject: str | None = None, time: datetime | None = None) -> CloudEvent:
        """Write a bus event to the outbox; it is published only once this unit of work commits."""
        event = new_event(
            type_name, self._source, data, subject or data.loan_id, time or self.clock.now(), traceparent=child_traceparent()
        )
        self.publish(TOPIC_OF_TYPE[type_name], event)
        return event

    def publish(self, topic: str, event: CloudEvent, *, headers: Iterable[Header] = ()) -> None:
        self.emitted.append(event)
        key = (event.subject or "").encode() or None
        traceparent = getattr(event, "traceparent", None)
        headers = [*headers, ("traceparent", traceparent)] if traceparent else list(headers)
        self.publish_raw(topic, key, event.to_json_bytes(), headers, event_type=event.type, event_id=event.id)

    def publish_raw(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        headers: Iterable[Header] = (),
        *,
        event_type: str | None = None,
        event_id: str | None = None,
    ) -> None:
        stored, sealed = self._sealer.seal(topic, value)
        self._pending.append((topic, key, stored, sealed, tuple(headers), event_type, event_id))

    async def claim(self, keys: list[tuple[str, str]], *, topic: str | None = None) -> set[tuple[str, str]]:
        """Record events as handled; returns those not handled before (a redelivery is not among them)."""
        if not keys:
            return set()
        # One JSON text parameter of [source, id] pairs: asyncpg encoded text arrays element by element.
        pairs = to_json(list(dict.fromkeys(keys))).decode()
        result = await self.session.execute(_claim_statement(self._tables.inbox), {"keys": pairs, "topic": topic})
        return {(source, event_id) for source, event_id in result}

    async def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, []
            # One JSON text parameter (bytes as hex), written by pydantic-core in C: an executemany
            # bound and encoded every column of every row in Python.
            rows = to_json(pending, bytes_mode="hex").decode()
            await self.session.execute(_outbox_statement(self._tables.outbox), {"rows": rows})

    def wrote_outbox(self) -> None:
        """Outbox rows went in past `emit`/`publish` (e.g. by COPY): the relay is woken after the commit."""
        self._wrote_outbox = True

    def signal_after_commit(self, name: str) -> None:
        """Wake this process's loop `name` (timers, dispatcher) once the work is visible to it."""
        self._signals_after_commit.add(name)

    async def commit(self) -> None:
        published = bool(self._pending) or self._wrote_outbox
        await self.flush()
        await self.session.commit()
        self._wrote_outbox = False
        if published:
            self._on_publish()
        for name in self._signals_after_commit:
            self._signal(name)
        self._signals_after_commit.clear()


# Built once per table: a text() clause parses its text for bind parameters each time it is made.
@cache
def _claim_statement(inbox: Table) -> TextClause:
    # One statement text whatever the batch size, not a VALUES list to recompile each time.
    return text(
        f"INSERT INTO {inbox.schema}.{inbox.name} (source, event_id, topic) "
        "SELECT k->>0, k->>1, :topic FROM jsonb_array_elements(CAST(:keys AS text)::jsonb) AS k "
        "ON CONFLICT DO NOTHING RETURNING source, event_id"
    )


@cache
def _outbox_statement(outbox: Table) -> TextClause:
    # WITH ORDINALITY ... ORDER BY: ids are assigned in emission order, the order the relay publishes in.
    return text(
        f"INSERT INTO {outbox.schema}.{outbox.name} (topic, key, value, sealed, headers, event_type, event_id) "
        "SELECT r->>0, decode(r->>1, 'hex'), decode(r->>2, 'hex'), (r->>3)::boolean, r->4, r->>5, r->>6 "
        "FROM jsonb_array_elements(CAST(:rows AS text)::jsonb) WITH ORDINALITY AS t(r, n) ORDER BY n"
    )


def pause_the_garbage_collector() -> bool:
    """Pause collections while a unit of work runs; True when this call paused them (and must resume).

    A consumer batch keeps thousands of young objects alive until it commits (events, models, files,
    ledgers, rows), and every collection in the meantime walked them all again to find nothing: the
    batch makes no reference cycles, so about a tenth of ingestion's Kafka path went to collections that
    freed nothing. Paused, the batch's objects are freed by their reference counts as it ends, and the
    first collection after it walks only what outlived it. A cycle made meanwhile waits for that one."""
    if not gc.isenabled():
        return False  # already paused, by a unit of work running alongside this one or by its host
    gc.disable()
    return True
