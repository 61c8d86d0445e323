"""A planned reminder's event text is written without validating each timer's copy: it must be exactly
what ReminderRequested would write, and read back as a valid ReminderRequested."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from dunning_contracts.events import ReminderRequested
from dunning_scheduler import casework
from dunning_scheduler.adapters.orm import Case
from dunning_scheduler.casework import Context
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


def as_the_model_writes_it(row: dict) -> str:
    return ReminderRequested.model_validate_json(row["event"]).model_dump_json()


@pytest.mark.parametrize("timezone", ["Asia/Shanghai", "UTC", "America/St_Johns", "Europe/London"])
def test_a_cases_reminder_events_are_what_the_model_writes(timezone):
    rows = casework.timer_rows(reminders(timezone), a_case(), context(timezone))
    assert [row["event"] for row in rows] == [as_the_model_writes_it(row) for row in rows]


def test_a_pre_due_reminder_names_the_loan_as_its_case():
    rows = casework.timer_rows(reminders("UTC")[:1], None, context(), loan_id="L-1", borrower_id="b-1")
    event = ReminderRequested.model_validate_json(rows[0]["event"])
    assert (event.case_id, event.loan_id, event.borrower_id, event.reminder_id) == ("pre-due:L-1", "L-1", "b-1", str(rows[0]["reminder_id"]))
    assert rows[0]["event"] == event.model_dump_json()


def test_each_timer_has_its_own_id_and_payload_and_checkpoints_no_event():
    review = PlannedAction("review", NOW, "reminder", 8, "day 8 may call for a later stage")
    rows = casework.timer_rows([*reminders("UTC"), review], a_case(), context(locale="en-US"))
    assert len({row["reminder_id"] for row in rows}) == 3
    assert rows[2]["event"] is None
    assert rows[0]["payload"] is not rows[1]["payload"]
    assert rows[0]["payload"] | {"trace_id": None} == {
        "stage": "reminder", "day": 1, "reason": "entering reminder on day 1", "policy_version": 3, "locale": "en-US",
        "template": "overdue_reminder", "channel": "sms", "not_before": NOW.isoformat(), "trace_id": None,
    }
