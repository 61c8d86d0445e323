"""The timer loop's hot path on the driver connection of the unit of work's own transaction: one
statement claims a batch, one COPY writes its outbox rows. No ORM and no JSON parsing per timer: a
reminder's event data was validated and serialised when it was planned."""

from datetime import datetime

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

CLAIM_DUE = """
UPDATE timers AS t SET status = 'fired', fired_at = $1
FROM (
    SELECT id FROM timers
    WHERE status = 'pending' AND due_at <= $1 AND kind = ANY($3::text[])
    ORDER BY due_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
) AS due
WHERE t.id = due.id
RETURNING t.id, t.reminder_id, t.case_id, t.loan_id, t.kind, t.due_at, t.event, t.payload ->> 'trace_id' AS trace_id,
          CASE WHEN t.kind <> 'reminder' OR t.event IS NULL THEN t.payload END AS task
"""

OUTBOX_COLUMNS = ("topic", "key", "value", "headers", "event_type", "event_id")


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session, inside the session's transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def claim_due(session: AsyncSession, now: datetime, limit: int, kinds: tuple[str, ...]) -> list[asyncpg.Record]:
    """Mark up to `limit` due timers fired and return them. Rows another replica holds are skipped, so
    replicas share the due timers and none is claimed twice; the marks commit with what the caller writes."""
    return await (await driver_connection(session)).fetch(CLAIM_DUE, now, limit, list(kinds))


async def copy_to_outbox(session: AsyncSession, rows: list[tuple]) -> None:
    """Outbox rows (OUTBOX_COLUMNS) by COPY, in the same transaction as the claim."""
    if rows:
        await (await driver_connection(session)).copy_records_to_table("outbox", records=rows, columns=OUTBOX_COLUMNS)


QUEUE_TASKS = """
INSERT INTO agent_tasks (id, timer_id, case_id, loan_id, kind, template, stage, priority, risk_points,
                         overdue_amount, status, created_at)
SELECT gen_random_uuid(), t.timer_id, c.id, c.loan_id, t.kind, t.template, t.stage, c.risk_points, c.risk_points,
       c.overdue_amount, 'queued', $6
FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[]) AS t(timer_id, case_id, kind, template, stage)
JOIN cases AS c ON c.id = t.case_id
ON CONFLICT (timer_id) DO NOTHING
"""


async def queue_agent_tasks(session: AsyncSession, timers: list[asyncpg.Record], now: datetime) -> None:
    """One task per fired agent timer, ranked by the case's risk score and overdue amount as they are now."""
    if not timers:
        return
    columns = list(zip(*[(t["id"], t["case_id"], t["kind"], t["task"]["template"], t["task"]["stage"]) for t in timers]))
    await (await driver_connection(session)).execute(QUEUE_TASKS, *columns, now)
