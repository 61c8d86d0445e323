"""The migration that keeps agents' contacts with the reminders, on a database that already has reminders."""

import asyncio
import os
import sys
from pathlib import Path

import asyncpg

from dunning_platform.devstack.postgres import asyncpg_dsn

SERVICE_ROOT = Path(__file__).resolve().parents[2]
REMINDER = (
    "INSERT INTO legal.contact_attempts (loan_id, reminder_id, channel, status, occurred_at, recorded_at, event_id)"
    " VALUES ('L-1', 'R-1', 'sms', 'delivered', now(), now(), 'urn:test#e-1')"
)


async def alembic(database_url: str, *args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alembic", "-c", str(SERVICE_ROOT / "alembic.ini"), *args,
        env=os.environ | {"LEGAL_DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, output.decode(errors="replace")


async def fetch(database_url: str, query: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return await connection.fetch(query)
    finally:
        await connection.close()


async def test_reminders_recorded_before_the_migration_stay_reminders_and_it_can_be_undone(service_database):
    url = await service_database("legal-referral", migrated=False)
    await alembic(url, "upgrade", "0008")
    await fetch(url, REMINDER)

    await alembic(url, "upgrade", "head")
    after = await fetch(url, "SELECT kind, reminder_id, task_id FROM legal.contact_attempts")
    checks = await fetch(url, "SELECT conname FROM pg_constraint WHERE contype = 'c' AND conname LIKE 'ck_contact%'")
    await alembic(url, "downgrade", "0008")
    undone = await fetch(url, "SELECT reminder_id FROM legal.contact_attempts")

    assert [tuple(row) for row in after] == [("reminder", "R-1", None)]
    assert [row["conname"] for row in checks] == ["ck_contact_attempts_reminder_has_id_and_status"]
    assert [tuple(row) for row in undone] == [("R-1",)]
