"""Reminders due the moment they are planned (a new case's entry actions, a stage's first ones) leave
in the transaction that planned them: marked fired, and their ReminderRequested written to the outbox
there, exactly as the timer loop would fire them right after the commit, but without waiting for the
loop to wake, claim them in a transaction of its own and commit again before the relay may send them."""

import uuid
from datetime import datetime

from dunning_messaging import UnitOfWork
from dunning_scheduler.adapters.firing_sql import copy_to_outbox
from dunning_scheduler.envelopes import outbox_row, reminder_data
from dunning_scheduler.metrics import observe_fired

async def fire_due_reminders(uow: UnitOfWork, rows: list[dict], now: datetime) -> list[dict]:
    """Timer rows about to be written: the reminders among them due by `now` get their reminder id, are
    marked fired and their events go to the outbox in this transaction; the others stay for the loop
    (agent work due now too: its queue row needs the case as written, which the loop's firing reads)."""
    due = [row for row in rows if row["kind"] == "reminder" and row["due_at"] <= now]
    if not due:
        return due
    for row in due:
        row["reminder_id"], row["status"], row["fired_at"] = uuid.uuid4(), "fired", now
    await copy_to_outbox(uow.session, [outbox_row(fired(row), uow.source, now) for row in due])
    uow.wrote_outbox()  # rows written by COPY pass by the unit of work's own count of what it emitted
    # Counted before the commit: a run that fails is split and applied again, and counts again.
    observe_fired(due, now)
    return due


def fired(row: dict) -> dict:
    """What outbox_row reads of a fired timer, from a planned row."""
    return {"trace_id": row["payload"].get("trace_id"), "event": reminder_data(row), "loan_id": row["loan_id"]}


def due_for_the_loop(rows: list[dict], now: datetime) -> bool:
    """Whether any timer written stays pending while already due: the loop is woken for it."""
    return any(row["due_at"] <= now and row.get("status", "pending") == "pending" for row in rows)
