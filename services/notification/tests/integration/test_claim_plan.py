"""The dispatcher's claim on a reminders table of which few are pending: PostgreSQL's generic plan (the
one a prepared statement settles on) reads the partial index of pending reminders, not every reminder
ever sent."""

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from dunning_notification.adapters.repository import CLAIM_DUE
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
