"""A new case's first reminders leave with the transaction that opens the case, not a round of the timer loop later."""

import asyncpg

from dunning_platform.devstack.postgres import asyncpg_dsn
from scheduler_testkit import START, eventually, new_loan_id, overdue, running, settings_for


async def test_a_new_cases_first_reminders_reach_the_bus_with_no_timer_loop_running(
    database_url, kafka_bootstrap, tokens_file, admin_token, bus, clock
):
    no_timer_loop = settings_for(database_url, kafka_bootstrap, tokens_file).model_copy(update={"timer_workers": 0})
    loan_id = new_loan_id()
    async with running(no_timer_loop, clock, admin_token):
        await bus.send("LoanOverdue", overdue(loan_id, 1))
        reminders = await eventually(lambda: two_reminders(bus, loan_id), what="the case's first reminders")

    assert sorted(r["channel"] for r in reminders) == ["push", "sms"]
    assert await fired_reminders(database_url, loan_id) == sorted((r["reminder_id"], START) for r in reminders)


async def two_reminders(bus, loan_id: str) -> list[dict] | None:
    reminders = await bus.reminders(loan_id)
    return reminders if len(reminders) >= 2 else None


async def fired_reminders(database_url: str, loan_id: str) -> list[tuple[str, object]]:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await connection.fetch(
            "SELECT reminder_id::text, fired_at FROM scheduler.timers WHERE loan_id = $1 AND status = 'fired' ORDER BY 1", loan_id
        )
    finally:
        await connection.close()
    return [(row["reminder_id"], row["fired_at"]) for row in rows]
