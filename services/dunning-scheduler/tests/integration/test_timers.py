"""Durable timers shared by several scheduler replicas on one database."""

import asyncio
import json
import uuid

import asyncpg

from dunning_contracts import Topics
from dunning_contracts.events import ReminderRequested
from dunning_platform.devstack.postgres import asyncpg_dsn
from scheduler_testkit import START, eventually, new_loan_id, running, settings_for

TIMERS = 3000


def planned_reminder(loan_id: str) -> tuple:
    """A reminder timer already due, with the payload the policy would have planned."""
    reminder_id, case_id = uuid.uuid4(), uuid.uuid4()
    event = ReminderRequested(
        reminder_id=str(reminder_id), case_id=str(case_id), loan_id=loan_id, borrower_id="B-1", channel="sms",
        template="overdue_reminder", locale="zh-CN", stage="reminder", not_before=START, expires_at=START,
    )
    payload = {"stage": "reminder", "reason": "planted", "policy_version": 1, "template": "overdue_reminder", "channel": "sms"}
    return reminder_id, case_id, loan_id, json.dumps(payload), event.model_dump_json(), START


async def plant_due_reminders(database_url: str, loan_id: str, count: int) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.executemany(
            "INSERT INTO scheduler.timers (reminder_id, case_id, loan_id, kind, payload, event, due_at, created_at) "
            "VALUES ($1, $2, $3, 'reminder', $4::jsonb, $5, $6, $6)",
            [planned_reminder(loan_id) for _ in range(count)],
        )
    finally:
        await connection.close()


async def test_two_replicas_never_fire_one_timer_twice(database_url, kafka_bootstrap, tokens_file, admin_token, bus, clock):
    loan_id = new_loan_id()
    await plant_due_reminders(database_url, loan_id, TIMERS)
    settings = settings_for(database_url, kafka_bootstrap, tokens_file).model_copy(update={"timer_batch_size": 100})

    async with running(settings, clock, admin_token), running(settings, clock, admin_token):
        await eventually(lambda: all_fired(database_url), what="every timer to fire")
        await eventually(lambda: outbox_drained(database_url), what="the outbox to drain")

    reminders = [e.data for e in await bus.events(Topics.REMINDER_REQUESTED, loan_id)]
    ids = [r["reminder_id"] for r in reminders]
    assert len(ids) == TIMERS
    assert len(set(ids)) == TIMERS


async def scalar(database_url: str, query: str):
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return await connection.fetchval(query)
    finally:
        await connection.close()


async def all_fired(database_url: str) -> bool:
    return await scalar(database_url, "SELECT count(*) FROM scheduler.timers WHERE status = 'pending'") == 0


async def outbox_drained(database_url: str) -> bool:
    return await scalar(database_url, "SELECT count(*) FROM scheduler.outbox WHERE published_at IS NULL") == 0


async def test_lateness_of_fired_timers_is_measured(scheduler):
    await plant_due_reminders(scheduler.database_url, new_loan_id(), 3)
    await scheduler.settled()
    await asyncio.sleep(0)

    metrics = (await scheduler.client.get("/metrics")).text

    assert 'scheduler_timer_lateness_seconds_count{kind="reminder"}' in metrics
    assert 'scheduler_timers_fired_total{kind="reminder"}' in metrics


async def test_a_reminder_timer_fires_with_its_event_built_from_its_row(scheduler):
    """As the planner writes a timer: no event text, the reminder id from the column's default, the rest of
    the ReminderRequested in the payload (as timers planned before the event text was stored had it too)."""
    loan_id = new_loan_id()
    payload = {
        "borrower_id": "B-9", "channel": "sms", "template": "overdue_reminder", "locale": "en", "stage": "reminder",
        "not_before": START.isoformat(), "expires_at": START.isoformat(), "policy_version": 1, "reason": "planned",
    }
    connection = await asyncpg.connect(asyncpg_dsn(scheduler.database_url))
    try:
        reminder_id = await connection.fetchval(
            "INSERT INTO scheduler.timers (loan_id, kind, payload, due_at, created_at) VALUES ($1, 'reminder', $2::jsonb, $3, $3)"
            " RETURNING reminder_id",
            loan_id, json.dumps(payload), START,
        )
    finally:
        await connection.close()
    await scheduler.settled()

    [reminder] = await scheduler.bus.reminders(loan_id)
    event = ReminderRequested.model_validate(reminder)
    assert (event.reminder_id, event.case_id, event.loan_id, event.borrower_id) == (str(reminder_id), f"pre-due:{loan_id}", loan_id, "B-9")
    assert (event.channel, event.template, event.locale, event.stage) == ("sms", "overdue_reminder", "en", "reminder")
    assert event.not_before == event.expires_at == START
