"""Which stage a case belongs in, under the default policy."""

from decimal import Decimal

from dunning_scheduler.domain.default_policy import DEFAULT_POLICY
from dunning_scheduler.domain.ladder import Situation, escalation, next_escalation_day, stage_for


def stage(days: int, amount: str = "1000", broken: int = 0) -> str:
    return stage_for(DEFAULT_POLICY, Situation(days, Decimal(amount), broken)).stage


def test_the_first_fortnight_is_the_reminder_stage():
    assert [stage(d) for d in (1, 7, 15)] == ["reminder"] * 3


def test_the_phone_stage_begins_on_day_16():
    assert stage(16) == "phone"
    assert stage(30) == "phone"


def test_a_field_visit_needs_day_31_and_5000_overdue():
    assert stage(31, "5000") == "field_visit"
    assert stage(31, "4999.99") == "phone"
    assert stage(30, "80000") == "phone"


def test_legal_begins_on_day_90_whatever_the_amount():
    assert stage(90, "10") == "legal"
    assert stage(120, "6000") == "legal"


def test_two_broken_promises_send_a_case_to_legal_early():
    assert stage(20, broken=2) == "legal"
    assert stage(20, broken=1) == "phone"


def test_the_reason_names_the_rule_that_holds():
    verdict = stage_for(DEFAULT_POLICY, Situation(40, Decimal("7000")))
    assert verdict.reason == "days past due 40 >= 31 and overdue amount 7000 >= 5000"


def test_a_case_never_moves_down_the_ladder_while_open():
    assert escalation(DEFAULT_POLICY, "field_visit", Situation(40, Decimal("100"))) is None


def test_a_new_case_always_gets_a_verdict():
    assert escalation(DEFAULT_POLICY, None, Situation(3, Decimal("100"))).stage == "reminder"


def test_the_next_escalation_day_skips_thresholds_the_amount_does_not_meet():
    assert next_escalation_day(DEFAULT_POLICY, "reminder", Situation(3, Decimal("100"))) == 16
    assert next_escalation_day(DEFAULT_POLICY, "phone", Situation(20, Decimal("100"))) == 90
    assert next_escalation_day(DEFAULT_POLICY, "phone", Situation(20, Decimal("9000"))) == 31
    assert next_escalation_day(DEFAULT_POLICY, "legal", Situation(95, Decimal("9000"))) is None


def test_an_unreachable_borrower_can_be_an_entry_rule():
    from dunning_scheduler.domain.policy import EntryRule, Policy, StagePolicy

    policy = Policy(
        name="unreachable",
        stages=[
            StagePolicy(name="reminder"),
            StagePolicy(name="field_visit", entry=[EntryRule(min_days_past_due=10, min_failed_contacts=3)]),
        ],
    )
    assert stage_for(policy, Situation(12, Decimal("100"), failed_contacts=3)).stage == "field_visit"
    assert stage_for(policy, Situation(12, Decimal("100"), failed_contacts=2)).stage == "reminder"
