"""Repayment plans on paper: which terms are refused, when reminders and checks fall, what a check decides."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from dunning_scheduler.domain.calendar import Calendar
from dunning_scheduler.domain.default_policy import DEFAULT_POLICY
from dunning_scheduler.domain.loan_notices import auto_debit_failed_notice
from dunning_scheduler.domain.plans import PlanRefused, assess, check_terms, checked_by, next_check, numbered, plan_reminders
from dunning_scheduler.domain.policy import PlanRules

# 12:00 in Shanghai, day 10 past due.
NOON = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
TODAY = date(2026, 11, 27)
CALENDAR = Calendar.of(TODAY - timedelta(days=10), "Asia/Shanghai", DEFAULT_POLICY.contact_window)
RULES = PlanRules()


def three_monthly(amount: str = "400.00"):
    return numbered([(TODAY + timedelta(days=30 * n), Decimal(amount)) for n in (1, 2, 3)])


def refused_field(installments, *, currency="CNY", total=None, rules=RULES) -> str:
    with pytest.raises(PlanRefused) as refused:
        check_terms(installments, currency, "CNY", total, TODAY, rules)
    return refused.value.field


def test_acceptable_terms_pass_and_are_numbered_from_one():
    plan = three_monthly()
    check_terms(plan, "CNY", "CNY", Decimal("1200.00"), TODAY, RULES)
    assert [i.seq for i in plan] == [1, 2, 3]


def test_each_kind_of_bad_terms_names_its_field():
    assert refused_field(three_monthly(), currency="USD") == "currency"
    assert refused_field(three_monthly(), total=Decimal("1000")) == "total"
    assert refused_field(three_monthly(), rules=PlanRules(max_installments=2)) == "installments"
    assert refused_field(three_monthly("400.005")) == "installments.0.amount"
    past = numbered([(TODAY - timedelta(days=1), Decimal("10"))])
    assert refused_field(past) == "installments.0.due_date"
    assert refused_field(numbered([(date(9999, 12, 31), Decimal("10"))])) == "installments.0.due_date"
    unordered = numbered([(TODAY + timedelta(days=9), Decimal("10")), (TODAY + timedelta(days=9), Decimal("10"))])
    assert refused_field(unordered) == "installments.1.due_date"


def test_trailing_zeros_are_not_extra_decimal_places():
    check_terms(three_monthly("400.0000"), "CNY", "CNY", None, TODAY, RULES)


def test_a_check_falls_at_the_window_opening_after_the_date_plus_grace():
    plan = three_monthly()
    seq, at = next_check(plan, 2, CALENDAR, NOON)
    assert (seq, at.astimezone(CALENDAR.timezone).date(), at.astimezone(CALENDAR.timezone).hour) == (1, TODAY + timedelta(days=33), 8)
    assert checked_by(plan, 2, CALENDAR, at) == 1
    assert checked_by(plan, 2, CALENDAR, at - timedelta(seconds=1)) == 0


def test_a_reminder_goes_some_days_before_each_instalment_still_ahead():
    reminders = plan_reminders(three_monthly(), RULES, CALENDAR, "reminder", 24, NOON + timedelta(days=40))
    local_days = [r.due_at.astimezone(CALENDAR.timezone).date() for r in reminders]
    assert local_days == [TODAY + timedelta(days=58), TODAY + timedelta(days=88)]
    assert {(r.channel, r.template) for r in reminders} == {("sms", "plan_installment_due")}
    assert all(r.expires_at - r.not_before == timedelta(hours=24) for r in reminders)


def test_paying_what_fell_due_keeps_the_plan_and_the_last_check_completes_it():
    plan = three_monthly()
    assert assess(plan, Decimal("400.00"), 1).status == "active"
    assert assess(plan, Decimal("1200.00"), 3).status == "completed"


def test_the_first_instalment_not_covered_breaks_the_plan():
    verdict = assess(three_monthly(), Decimal("500.00"), 2)
    assert (verdict.status, verdict.missed_seq, verdict.kept) == ("broken", 2, 1)


def test_an_auto_debit_notice_at_night_waits_for_the_window():
    midnight = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # 00:00 in Shanghai
    notice = auto_debit_failed_notice(2, midnight, CALENDAR, 24)
    assert notice.due_at == midnight
    assert notice.not_before.astimezone(CALENDAR.timezone).hour == 8
    assert (notice.channel, notice.template) == ("sms", "auto_debit_failed")
