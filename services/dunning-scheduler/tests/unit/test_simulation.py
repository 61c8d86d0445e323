"""The dry run follows the same rules as real cases."""

from datetime import UTC, datetime
from decimal import Decimal

from dunning_scheduler.domain.default_policy import DEFAULT_POLICY
from dunning_scheduler.domain.simulation import Scenario, simulate

NOON = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)


def kinds_by_day(timeline, kind: str) -> list[tuple[int, str]]:
    return [(e.day, e.stage) for e in timeline if e.kind == kind]


def test_a_small_loan_skips_the_field_visit_stage():
    timeline = simulate(DEFAULT_POLICY, Scenario(1, Decimal("800")), NOON, 100)
    assert kinds_by_day(timeline, "escalation") == [(16, "phone"), (90, "legal")]
    assert kinds_by_day(timeline, "field_visit") == []


def test_a_large_loan_gets_field_visits_from_day_31():
    timeline = simulate(DEFAULT_POLICY, Scenario(1, Decimal("5000")), NOON, 60)
    assert kinds_by_day(timeline, "field_visit") == [(31, "field_visit"), (45, "field_visit"), (59, "field_visit")]


def test_a_loan_migrated_at_day_120_gets_its_legal_notice_at_once():
    timeline = simulate(DEFAULT_POLICY, Scenario(120, Decimal("6000")), NOON, 30)
    assert [(e.at, e.kind, e.template) for e in timeline] == [
        (NOON, "escalation", None),
        (NOON, "reminder", "legal_notice"),
    ]


def test_a_loan_not_yet_due_starts_with_the_pre_due_reminders():
    timeline = simulate(DEFAULT_POLICY, Scenario(-5, Decimal("100")), NOON, 7)
    assert [(e.day, e.channel) for e in timeline] == [(-3, "sms"), (-1, "sms"), (1, "sms"), (1, "push")]


def test_no_day_of_the_timeline_exceeds_the_daily_cap():
    timeline = simulate(DEFAULT_POLICY, Scenario(1, Decimal("9000")), NOON, 120)
    reminders_per_day: dict[int, int] = {}
    for entry in timeline:
        if entry.kind == "reminder":
            reminders_per_day[entry.day] = reminders_per_day.get(entry.day, 0) + 1
    assert max(reminders_per_day.values()) <= DEFAULT_POLICY.caps.per_day
