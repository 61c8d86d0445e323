"""The timer loop's hot path on the driver connection of the unit of work's own transaction: ONE
statement claims a batch, marks it fired, writes a ReminderRequested to the outbox for each reminder and
an agent task for each call or visit. No ORM, no JSON parsing and no event rows through Python: a
reminder's event is built by PostgreSQL from its timer's row (the payload holds what the columns do
not), envelope and all, as `envelopes` builds it for the reminders fired as they are planned."""

from datetime import datetime

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

# The envelope of envelopes.outbox_row, byte for byte the same shape; ids and span ids are random uuids' hex.
FIRE_DUE = """
WITH due AS (
    SELECT id FROM timers
    WHERE status = 'pending' AND due_at <= $1 AND kind = ANY($3::text[])
    ORDER BY due_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), fired AS (
    UPDATE timers AS t SET status = 'fired', fired_at = $1
    FROM due
    WHERE t.id = due.id
    RETURNING t.id, t.reminder_id, t.case_id, t.loan_id, t.kind, t.due_at, t.event, t.payload
), reminders AS (
    -- Timers planned while a reminder's event was written with its timer still carry that text.
    SELECT f.id, f.loan_id, gen_random_uuid()::text AS event_id,
           coalesce(f.event, json_build_object(
               'reminder_id', f.reminder_id, 'case_id', coalesce(f.case_id::text, 'pre-due:' || f.loan_id),
               'loan_id', f.loan_id, 'borrower_id', f.payload -> 'borrower_id', 'channel', f.payload -> 'channel',
               'template', f.payload -> 'template', 'locale', f.payload -> 'locale', 'stage', f.payload -> 'stage',
               'not_before', f.payload -> 'not_before', 'expires_at', f.payload -> 'expires_at')::text) AS event,
           '00-' || coalesce(f.payload ->> 'trace_id', replace(gen_random_uuid()::text, '-', '')) || '-'
               || substr(replace(gen_random_uuid()::text, '-', ''), 1, 16) || '-01' AS traceparent
    FROM fired AS f
    WHERE f.kind = 'reminder'
), outboxed AS (
    INSERT INTO outbox (topic, key, value, headers, event_type, event_id)
    SELECT $4, convert_to(r.loan_id, 'UTF8'),
           convert_to('{"specversion":"1.0","id":"' || r.event_id || '","source":' || $5 || ',"type":"ReminderRequested",'
               || '"time":"' || $6 || '","subject":' || to_json(r.loan_id)::text || ',"datacontenttype":"application/json",'
               || '"traceparent":"' || r.traceparent || '","data":' || r.event || '}', 'UTF8'),
           jsonb_build_array(jsonb_build_array('traceparent', r.traceparent)), 'ReminderRequested', r.event_id
    FROM reminders AS r
    ORDER BY r.id
), tasks AS (
    INSERT INTO agent_tasks (id, timer_id, case_id, loan_id, kind, template, stage, priority, risk_points,
                             overdue_amount, status, created_at)
    SELECT gen_random_uuid(), f.id, c.id, c.loan_id, f.kind, f.payload ->> 'template', f.payload ->> 'stage',
           c.risk_points, c.risk_points, c.overdue_amount, 'queued', $1
    FROM fired AS f
    JOIN cases AS c ON c.id = f.case_id
    WHERE f.kind <> 'reminder'
    ON CONFLICT (timer_id) DO NOTHING
)
SELECT f.id, f.reminder_id, f.case_id, f.loan_id, f.kind, f.due_at, f.payload ->> 'trace_id' AS trace_id
FROM fired AS f
"""

OUTBOX_COLUMNS = ("topic", "key", "value", "headers", "event_type", "event_id")


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session, inside the session's transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def fire_due(
    session: AsyncSession, now: datetime, limit: int, kinds: tuple[str, ...], *, topic: str, source_json: str
) -> list[asyncpg.Record]:
    """Fire up to `limit` due timers in one statement (see FIRE_DUE) and return them."""
    connection = await driver_connection(session)
    return await connection.fetch(FIRE_DUE, now, limit, list(kinds), topic, source_json, now.isoformat())


async def copy_to_outbox(session: AsyncSession, rows: list[tuple]) -> None:
    """Outbox rows (OUTBOX_COLUMNS) by COPY, in the same transaction as the claim."""
    if rows:
        await (await driver_connection(session)).copy_records_to_table("outbox", records=rows, columns=OUTBOX_COLUMNS)
