"""A fired reminder's outbox row: the CloudEvent around the ReminderRequested data planned (and
validated) with its timer, as `adapters/firing_sql.FIRE_DUE` builds it in PostgreSQL for a batch."""

import json
import uuid
from datetime import datetime

from dunning_contracts import Topics
from dunning_contracts.events import ReminderRequested
from dunning_platform.tracing import new_traceparent


def outbox_row(timer, source: str, now: datetime) -> tuple:
    """A CloudEvent around the ReminderRequested data planned (and validated) with the timer; the trace
    of the event that planned it goes on."""
    event_id, traceparent = str(uuid.uuid4()), new_traceparent(timer["trace_id"])
    data = timer.get("event") or data_from_payload(timer)
    envelope = (
        f'{{"specversion":"1.0","id":"{event_id}","source":{json.dumps(source)},"type":"ReminderRequested",'
        f'"time":"{now.isoformat()}","subject":{json.dumps(timer["loan_id"])},"datacontenttype":"application/json",'
        f'"traceparent":"{traceparent}","data":{data}}}'
    )
    key = timer["loan_id"].encode()
    headers = f'[["traceparent", "{traceparent}"]]'  # JSON text: the driver connection's jsonb codec takes it as is
    return (Topics.REMINDER_REQUESTED, key, envelope.encode(), headers, "ReminderRequested", event_id)


def data_from_payload(timer) -> str:
    """Timers planned before their event was stored whole (migration 2026_11_27_0002) carry its fields."""
    p = timer["task"]
    return ReminderRequested(
        reminder_id=str(timer["reminder_id"]),
        case_id=str(timer["case_id"]) if timer["case_id"] else f"pre-due:{timer['loan_id']}",
        loan_id=timer["loan_id"], borrower_id=p["borrower_id"], channel=p["channel"], template=p["template"],
        locale=p["locale"], stage=p["stage"], not_before=p["not_before"], expires_at=p["expires_at"],
    ).model_dump_json()
