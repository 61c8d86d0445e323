"""Cancelling a wave's pre-due reminders when a burst of bookings came after the table's statistics:
PostgreSQL's generic plan looks the loans up one by one in the pending-by-loan index, and does not
read every loan's pending pre-due timers through the case index's `case_id IS NULL` entries."""

import asyncpg

from dunning_platform.devstack.postgres import asyncpg_dsn
from dunning_scheduler.adapters.repository import CANCEL_PRE_DUE

BOOKED = 5000  # loans with pre-due reminders pending, booked after the last ANALYZE


async def test_the_cancels_generic_plan_looks_up_each_loan_not_every_pending_pre_due_timer(service_database):
    connection = await asyncpg.connect(asyncpg_dsn(await service_database("dunning-scheduler")))
    try:
        await connection.execute("ANALYZE scheduler.timers")  # statistics of the empty table
        await _book(connection, BOOKED)
        plan = await _generic_plan(connection, ["L-1", "L-2"])
        cancelled = await connection.fetchval(
            "SELECT count(*) FROM scheduler.timers WHERE status = 'cancelled' AND loan_id = ANY($1)", ["L-1", "L-2"]
        )
    finally:
        await connection.close()

    assert "ix_timers_loan_pending" in plan and "ix_timers_case" not in plan, plan
    assert cancelled == 4  # the two loans' pre-due reminders, and only theirs


async def _book(connection: asyncpg.Connection, loans: int) -> None:
    """Two pre-due reminders pending per loan, as a booking plans them."""
    await connection.execute(
        """
        INSERT INTO scheduler.timers (loan_id, kind, due_at, payload, created_at)
        SELECT 'L-' || n, 'reminder', now() + make_interval(days => 1 + d), '{}'::jsonb, now()
        FROM generate_series(1, $1::int) AS n, generate_series(0, 1) AS d
        """,
        loans,
    )


async def _generic_plan(connection: asyncpg.Connection, loan_ids: list[str]) -> str:
    """EXPLAIN ANALYZE of the cancel as a prepared statement on its generic plan; it runs."""
    sql = CANCEL_PRE_DUE.text.replace(":reason", "$1").replace(":loan_ids", "$2")
    await connection.execute("SET search_path = scheduler")
    await connection.execute("SET plan_cache_mode = force_generic_plan")
    await connection.execute(f"PREPARE cancel(text, text[]) AS {sql}")
    loans = "{" + ",".join(loan_ids) + "}"
    rows = await connection.fetch(f"EXPLAIN (ANALYZE) EXECUTE cancel('the loan is overdue', '{loans}')")
    return "\n".join(row[0] for row in rows)
