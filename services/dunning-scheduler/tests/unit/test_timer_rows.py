"""A reminder fired as it is planned has its event written without validating each copy: it must be
exactly what ReminderRequested would write, and read back as a valid ReminderRequested. Its row holds
what FIRE_DUE builds the same event from in PostgreSQL (tests/integration/test_timers.py)."""

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from dunning_contracts.events import ReminderRequested
from dunning_scheduler import casework
from dunning_scheduler.envelopes import reminder_data
from dunning_scheduler.adapters.orm import Case
from dunning_scheduler.casework import Context, Writes
from dunning_scheduler.domain.borrower import BorrowerContext
from dunning_scheduler.domain.default_policy import DEFAULT_POLICY
from dunning_scheduler.domain.planner import PlannedAction
from dunning_scheduler.domain.policy import VersionedPolicy

NOW = datetime(2026, 11, 27, 4, 0, 0, 123456, tzinfo=UTC)


class StubUnitOfWork:
    session = None


def context(timezone: str = "Asia/Shanghai", locale: str = "zh-CN") -> Context:
    return Context(StubUnitOfWork(), VersionedPolicy(version=3, policy=DEFAULT_POLICY), BorrowerContext(locale, timezone, "CN"), NOW)


def a_case() -> Case:
    return Case(id=uuid.uuid4(), loan_id='loan "7", with quotes', borrower_id="b-7", day_zero=date(2026, 11, 26))


def reminders(timezone: str) -> list[PlannedAction]:
    return [
        PlannedAction("reminder", NOW, "reminder", 1, "entering reminder on day 1", "sms", "overdue_reminder", NOW, NOW + timedelta(hours=24)),
        PlannedAction(
            "reminder", NOW, "phone", 31, "day 31 of phone", "email", "phone_notice",
            datetime(2026, 12, 1, 8, tzinfo=casework.Calendar.of(date(2026, 11, 1), timezone, DEFAULT_POLICY.contact_window).timezone),
            datetime(2026, 12, 2, 8, 0, 0, 500, tzinfo=UTC),
        ),
    ]


def with_ids(rows: list[dict]) -> list[dict]:
    """Rows as at_once fires them: each with a reminder id of its own."""
    return [row | {"reminder_id": uuid.uuid4()} for row in rows]


@pytest.mark.parametrize("timezone", ["Asia/Shanghai", "UTC", "America/St_Johns", "Europe/London"])
def test_a_cases_reminder_events_are_what_the_model_reads(timezone):
    case = a_case()
    rows = with_ids(casework.timer_rows(reminders(timezone), case, context(timezone)))
    events = [ReminderRequested.model_validate_json(reminder_data(row)) for row in rows]
    assert [(e.reminder_id, e.case_id, e.loan_id, e.borrower_id) for e in events] == [
        (str(row["reminder_id"]), str(case.id), case.loan_id, "b-7") for row in rows
    ]
    planned = reminders(timezone)
    assert [(e.not_before, e.expires_at) for e in events] == [(a.not_before, a.expires_at) for a in planned]
    assert [(e.channel, e.template, e.stage, e.locale) for e in events] == [
        ("sms", "overdue_reminder", "reminder", "zh-CN"), ("email", "phone_notice", "phone", "zh-CN")
    ]


def test_the_event_text_is_valid_json_of_the_models_fields_in_its_order():
    [row] = with_ids(casework.timer_rows(reminders("UTC")[:1], a_case(), context()))
    text = reminder_data(row)
    assert list(json.loads(text)) == list(ReminderRequested.model_fields)


def test_a_pre_due_reminder_names_the_loan_as_its_case():
    [row] = with_ids(casework.timer_rows(reminders("UTC")[:1], None, context(), loan_id="L-1", borrower_id="b-1"))
    event = ReminderRequested.model_validate_json(reminder_data(row))
    assert (event.case_id, event.loan_id, event.borrower_id, event.reminder_id) == ("pre-due:L-1", "L-1", "b-1", str(row["reminder_id"]))


def test_planned_timers_carry_no_id_nor_event_and_each_its_own_payload():
    review = PlannedAction("review", NOW, "reminder", 8, "day 8 may call for a later stage")
    rows = casework.timer_rows([*reminders("UTC"), review], a_case(), context(locale="en-US"))
    assert all("reminder_id" not in row and "event" not in row for row in rows)
    assert rows[0]["payload"] is not rows[1]["payload"]
    assert rows[0]["payload"] | {"trace_id": None} == {
        "stage": "reminder", "day": 1, "reason": "entering reminder on day 1", "policy_version": 3, "locale": "en-US",
        "template": "overdue_reminder", "channel": "sms", "not_before": NOW.isoformat(), "trace_id": None,
        "borrower_id": "b-7", "expires_at": (NOW + timedelta(hours=24)).isoformat(),
    }
    assert "borrower_id" not in rows[2]["payload"]


def test_cases_of_one_run_share_what_their_payloads_hold_of_the_plan_but_no_payload():
    ctx, plan = context(), reminders("UTC")
    ctx.writes = Writes()
    first = casework.timer_rows(plan, a_case(), ctx)
    second = casework.timer_rows(plan, Case(id=uuid.uuid4(), loan_id="L-8", borrower_id="b-8", day_zero=date(2026, 11, 26)), ctx)
    alone = casework.timer_rows(plan, a_case(), context())

    for mine, theirs, unshared in zip(first, second, alone, strict=True):
        assert mine["payload"] is not theirs["payload"]
        assert mine["payload"] | {"borrower_id": "b-8"} == theirs["payload"]
        assert mine["payload"] == unshared["payload"]
    first[0]["payload"]["borrower_id"] = "changed"
    assert second[0]["payload"]["borrower_id"] == "b-8"
