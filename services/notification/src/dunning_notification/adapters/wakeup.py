"""Wakes the dispatcher when a reminder is stored, through PostgreSQL LISTEN/NOTIFY.

NOTIFY is transactional: it is delivered only when the transaction that stored the reminder commits, so
the dispatcher never wakes for a reminder it cannot see yet."""

import asyncio
import logging
from collections.abc import Iterable

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "notification_reminders_due"
log = logging.getLogger(__name__)


async def announce_due(session: AsyncSession) -> None:
    # Identical notifications of one transaction are folded into one by PostgreSQL.
    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


class Wakeup:
    def __init__(self, database_url: str) -> None:
        self._dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._connection: asyncpg.Connection | None = None
        self.event = asyncio.Event()

    async def ensure_listening(self) -> None:
        """(Re)connect the listener; without it the dispatcher still polls, only slower."""
        if self._connection is not None and not self._connection.is_closed():
            return
        try:
            self._connection = await asyncpg.connect(self._dsn)
            await self._connection.add_listener(CHANNEL, lambda *_: self.event.set())
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("cannot listen for due reminders (%s); polling only", type(error).__name__)
            self._connection = None

    async def wait(self, stopping: asyncio.Event, timeout: float, *, or_any_of: Iterable[asyncio.Future] = ()) -> None:
        """Until a reminder is announced, one of `or_any_of` is done, the service stops, or `timeout` passes.
        The event is cleared on return, before the caller claims: a notice that arrives after the clearing
        is for a reminder the next claim may not see, and wakes the next wait."""
        waiters = [asyncio.ensure_future(self.event.wait()), asyncio.ensure_future(stopping.wait())]
        await asyncio.wait([*waiters, *or_any_of], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
        self.event.clear()

    async def close(self) -> None:
        if self._connection is not None and not self._connection.is_closed():
            await self._connection.close()
