"""The dispatcher's claim on a reminders table of which few are pending: PostgreSQL's generic plan (the
one a prepared statement settles on) reads the partial index of pending reminders, not every reminder
ever sent."""

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from dunning_notification.adapters.repository import CLAIM_DUE, PLANNED_FOR_EACH_CLAIM
from dunning_platform.devstack.postgres import asyncpg_dsn

SENT, PENDING = 5000, 20
# What each of the claim's parameters is given in the EXPLAIN: times now, ten reminders at most, and
# 'pending' to a status bound as a parameter (as the claim once had it).
VALUES = {"now": "now()", "lease": "now() + interval '1 minute'", "limit": "10"}
BOUND_STATUS = "'pending'"


async def test_the_claims_generic_plan_reads_the_pending_reminders_index_not_the_table(service_database):
    connection = await asyncpg.connect(asyncpg_dsn(await service_database("notification")))
    try:
        await _fill(connection)
        plan = await _generic_plan(connection)
    finally:
        await connection.close()

    assert "ix_reminders_due" in plan
    assert "Seq Scan on reminders" not in plan


async def _fill(connection: asyncpg.Connection) -> None:
    await connection.execute(
        """
        INSERT INTO notification.reminders (reminder_id, case_id, loan_id, borrower_id, channel, template, locale,
            stage, not_before, expires_at, status, next_attempt_at, requested_at, updated_at)
        SELECT 'r-' || n, 'c-' || n, 'L-' || n, 'B-' || (n % 700), 'sms', 'overdue_reminder', 'zh-CN', 'reminder',
            now() - interval '1 day', now() + interval '1 day',
            CASE WHEN n <= $2::int THEN 'pending' ELSE 'sent' END, now() - interval '1 hour', now(), now()
        FROM generate_series(1, $1::int + $2::int) AS n
        """,
        SENT, PENDING,
    )
    await connection.execute("ANALYZE notification.reminders")


async def _generic_plan(connection: asyncpg.Connection) -> str:
    compiled = CLAIM_DUE.compile(dialect=asyncpg_dialect())
    values = ", ".join(VALUES.get(name, BOUND_STATUS) for name in compiled.positiontup)
    await connection.execute("SET plan_cache_mode = force_generic_plan")
    await connection.execute(f"PREPARE claim AS {compiled}")
    rows = await connection.fetch(f"EXPLAIN EXECUTE claim({values})")
    return "\n".join(row[0] for row in rows)


async def test_a_backlog_the_statistics_do_not_know_is_read_in_order_up_to_the_batch(service_database):
    """Statistics of the empty table (a new deployment), then a backlog of due reminders: the claim, as the
    dispatcher runs it (its settings, then a plan for the call), reads ix_reminders_due in order and stops
    at the batch, instead of a bitmap of every due reminder and a sort."""
    connection = await asyncpg.connect(asyncpg_dsn(await service_database("notification")))
    try:
        await connection.execute("ANALYZE notification.reminders")
        await connection.execute(
            """
            INSERT INTO notification.reminders (reminder_id, case_id, loan_id, borrower_id, channel, template,
                locale, stage, not_before, expires_at, status, next_attempt_at, requested_at, updated_at)
            SELECT 'due-' || n, 'c-' || n, 'L-' || n, 'B-' || n, 'sms', 'overdue_reminder', 'zh-CN', 'reminder',
                now() - interval '1 day', now() + interval '1 day', 'pending',
                now() - interval '1 minute' + n * interval '1 ms', now(), now()
            FROM generate_series(1, 28000) AS n
            """
        )
        plan = await _plan_as_claimed(connection)
    finally:
        await connection.close()

    assert "Index Scan using ix_reminders_due" in plan, plan
    assert "Bitmap Heap Scan on reminders reminders_1" not in plan and "Sort" not in plan, plan


async def _plan_as_claimed(connection: asyncpg.Connection) -> str:
    compiled = CLAIM_DUE.compile(dialect=asyncpg_dialect())
    values = ", ".join(VALUES.get(name, BOUND_STATUS) for name in compiled.positiontup)
    async with connection.transaction():
        await connection.execute(str(PLANNED_FOR_EACH_CLAIM))
        await connection.execute(f"PREPARE claim AS {compiled}")
        rows = await connection.fetch(f"EXPLAIN EXECUTE claim({values})")
        await connection.execute("DEALLOCATE claim")
    return "\n".join(row[0] for row in rows)
