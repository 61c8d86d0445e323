"""A fired reminder's outbox row: the CloudEvent around its ReminderRequested data, as
`adapters/firing_sql.FIRE_DUE` builds it in PostgreSQL for a batch; here for the reminders fired in
the transaction that planned them (`at_once`)."""

import json
import uuid
from datetime import datetime

from pydantic_core import to_json

from dunning_contracts import Topics
from dunning_platform.tracing import new_traceparent


def outbox_row(timer, source: str, now: datetime) -> tuple:
    """A CloudEvent around the timer's ReminderRequested data (`event`); the trace of the event that
    planned it goes on."""
    event_id, traceparent = str(uuid.uuid4()), new_traceparent(timer["trace_id"])
    envelope = (
        f'{{"specversion":"1.0","id":"{event_id}","source":{json.dumps(source)},"type":"ReminderRequested",'
        f'"time":"{now.isoformat()}","subject":{json.dumps(timer["loan_id"])},"datacontenttype":"application/json",'
        f'"traceparent":"{traceparent}","data":{timer["event"]}}}'
    )
    key = timer["loan_id"].encode()
    headers = f'[["traceparent", "{traceparent}"]]'  # JSON text: the driver connection's jsonb codec takes it as is
    return (Topics.REMINDER_REQUESTED, key, envelope.encode(), headers, "ReminderRequested", event_id)


def reminder_data(timer: dict) -> str:
    """A reminder timer's ReminderRequested data as JSON, from its row as planned (`casework.timer_rows`)
    and its reminder id: the fields FIRE_DUE reads in PostgreSQL, in the model's order. Not validated
    copy by copy: every value comes from validated inputs or the planner (tests hold it to the model)."""
    p = timer["payload"]
    data = {
        "reminder_id": str(timer["reminder_id"]), "case_id": case_reference(timer["case_id"], timer["loan_id"]),
        "loan_id": timer["loan_id"], "borrower_id": p["borrower_id"], "channel": p["channel"],
        "template": p["template"], "locale": p["locale"], "stage": p["stage"], "not_before": p["not_before"],
        "expires_at": p["expires_at"],
    }
    return to_json(data).decode()


def case_reference(case_id: uuid.UUID | None, loan_id: str) -> str:
    """Pre-due reminders come before any case exists; they name the loan instead."""
    return str(case_id) if case_id else f"pre-due:{loan_id}"
