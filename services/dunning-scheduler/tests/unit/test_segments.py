"""Segments and champion/challenger arms: which ladder a case follows."""

from collections import Counter
from decimal import Decimal

import pytest
from pydantic import ValidationError

from dunning_scheduler.domain.default_policy import DEFAULT_POLICY
from dunning_scheduler.domain.policy import Action, Arm, EntryRule, Experiment, Policy, Segment, SegmentMatch, StagePolicy
from dunning_scheduler.domain.segments import CaseProfile, bucket, resolve

QUICK_LEGAL = [
    StagePolicy(name="reminder", actions=[Action(channel="sms", template="overdue_reminder", day=1)]),
    StagePolicy(name="legal", entry=[EntryRule(min_days_past_due=30)]),
]


def profile(loan_id: str = "L-1", lender: str = "acme", amount: str = "1000") -> CaseProfile:
    return CaseProfile(loan_id, lender, "cash-loan", Decimal(amount), 5, "low")


def with_segment(**match) -> Policy:
    segment = Segment(name="big-acme", match=SegmentMatch(**match), stages=QUICK_LEGAL)
    return DEFAULT_POLICY.model_copy(update={"segments": [segment]})


def test_a_case_matching_a_segment_follows_its_ladder():
    resolved = resolve(with_segment(lenders=["acme"], min_overdue_amount=Decimal("500")), profile())
    assert resolved.segment == "big-acme"
    assert [s.name for s in resolved.policy.stages] == ["reminder", "legal"]


def test_a_case_matching_no_segment_follows_the_policy_ladder():
    resolved = resolve(with_segment(lenders=["other"]), profile())
    assert (resolved.segment, resolved.policy.stages) == (None, DEFAULT_POLICY.stages)


def test_arms_are_assigned_by_loan_and_split_as_configured():
    experiment = Experiment(name="quick-legal", arms=[Arm(name="champion", percent=80), Arm(name="challenger", percent=20, stages=QUICK_LEGAL)])
    policy = DEFAULT_POLICY.model_copy(update={"experiment": experiment})
    arms = Counter(resolve(policy, profile(f"L-{n}")).arm for n in range(5000))
    assert 0.17 < arms["challenger"] / 5000 < 0.23
    assert resolve(policy, profile("L-42")).arm == resolve(policy, profile("L-42")).arm
    assert bucket("L-42", "quick-legal") == bucket("L-42", "quick-legal")


def test_arm_percentages_must_add_up_to_100():
    with pytest.raises(ValidationError, match="add up to 90, not 100"):
        Experiment(name="x", arms=[Arm(name="a", percent=50), Arm(name="b", percent=40)])


def test_a_segment_ladder_is_checked_like_the_policys():
    with pytest.raises(ValidationError, match="segment 'bad': stages: the first stage must be 'reminder'"):
        Segment(name="bad", match=SegmentMatch(), stages=QUICK_LEGAL[1:])
