"""A run's bookings that share their due dates and time zone share one pre-due plan; each loan still
gets timers of its own."""

from datetime import UTC, datetime

from dunning_scheduler import casework
from dunning_scheduler.casework import Context, Writes
from dunning_scheduler.domain.borrower import BorrowerContext
from dunning_scheduler.domain.default_policy import DEFAULT_POLICY
from dunning_scheduler.domain.planner import plan_pre_due
from dunning_scheduler.domain.policy import VersionedPolicy

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
DUE_DATES = ["2026-12-27", "2027-01-26"]


class StubUnitOfWork:
    session = None


def context(writes: Writes | None, timezone: str = "Asia/Shanghai") -> Context:
    return Context(StubUnitOfWork(), VersionedPolicy(version=3, policy=DEFAULT_POLICY), BorrowerContext("zh-CN", timezone, "CN"), NOW, writes)


def test_loans_with_the_same_dates_and_zone_share_the_plan_and_keep_their_own_rows():
    writes = Writes()
    first = casework.pre_due_timers(context(writes), "L-1", "b-1", DUE_DATES)
    second = casework.pre_due_timers(context(writes), "L-2", "b-2", DUE_DATES)
    assert len(writes.pre_due_plans) == 1 and len(first) == len(second) == 3  # two reminders, a checkpoint
    assert [row["loan_id"] for row in first + second] == ["L-1"] * 3 + ["L-2"] * 3
    assert {row["payload"]["borrower_id"] for row in second if row["kind"] == "reminder"} == {"b-2"}
    assert [row["due_at"] for row in first] == [row["due_at"] for row in second]


def test_another_zone_or_other_dates_get_their_own_plan():
    writes = Writes()
    casework.pre_due_timers(context(writes), "L-1", "b-1", DUE_DATES)
    casework.pre_due_timers(context(writes, "America/New_York"), "L-2", "b-2", DUE_DATES)
    casework.pre_due_timers(context(writes), "L-3", "b-3", DUE_DATES[:1])
    assert len(writes.pre_due_plans) == 3


def test_the_shared_plan_is_the_planners_own():
    dates = [datetime.fromisoformat(d).date() for d in DUE_DATES]
    expected = plan_pre_due(DEFAULT_POLICY, dates, "America/New_York", NOW)
    planned = casework.pre_due_plan(context(Writes(), "America/New_York"), DUE_DATES)
    assert planned == expected
    assert casework.pre_due_plan(context(None, "America/New_York"), DUE_DATES) == expected
