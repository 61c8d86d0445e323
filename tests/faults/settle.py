"""Waiting for the platform to finish what it was given: every outbox published, every consumer caught
up, every due reminder sent, and nothing changing any more."""

import asyncio
import time

import asyncpg

SCHEMAS = ("ingestion", "scheduler", "notification", "legal")


async def fingerprint(connection: asyncpg.Connection) -> tuple:
    """Counts that move while work is in flight, and the backlog that must reach zero."""
    parts = []
    for schema in SCHEMAS:
        parts.append(await connection.fetchval(f"SELECT count(*) FROM {schema}.outbox"))
        parts.append(await connection.fetchval(f"SELECT count(*) FROM {schema}.inbox"))
    backlog = 0
    for schema in SCHEMAS:
        backlog += await connection.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL")
    backlog += await connection.fetchval(
        "SELECT count(*) FROM notification.reminders WHERE status = 'pending' AND next_attempt_at <= now()"
    )
    return tuple(parts), backlog


async def wait_until_quiet(admin_dsn: str, *, quiet_s: float, timeout_s: float, say=print) -> float:
    """Seconds it took; raises TimeoutError with the last backlog when the platform never settles."""
    started = time.monotonic()
    last, since, backlog = None, time.monotonic(), None
    while time.monotonic() - started < timeout_s:
        try:
            connection = await asyncpg.connect(admin_dsn)
            try:
                counts, backlog = await fingerprint(connection)
            finally:
                await connection.close()
        except (OSError, asyncpg.PostgresError) as error:
            say(f"settle: database not reachable ({error}); waiting")
            await asyncio.sleep(2)
            continue
        if counts != last or backlog:
            last, since = counts, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return time.monotonic() - started
        await asyncio.sleep(1)
    raise TimeoutError(f"the platform did not settle within {timeout_s:.0f} s (backlog {backlog}, counts {last})")
