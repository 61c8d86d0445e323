"""A dry run of a case that already stands in a stage carries on from there."""

from datetime import UTC, datetime
from decimal import Decimal

from dunning_scheduler.domain.default_policy import DEFAULT_POLICY
from dunning_scheduler.domain.policy import Segment, SegmentMatch
from dunning_scheduler.domain.simulation import Scenario, simulate, simulate_resolved

NOON = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)


def test_a_case_in_the_phone_stage_gets_that_stages_actions_at_once_without_escalating_again():
    timeline = simulate(DEFAULT_POLICY, Scenario(20, Decimal("3000"), stage="phone"), NOON, 5)

    assert (timeline[0].day, timeline[0].kind, timeline[0].stage) == (20, "agent_call", "phone")
    assert "escalation" not in [e.kind for e in timeline]


def test_a_case_in_legal_after_broken_promises_stays_there():
    timeline = simulate(DEFAULT_POLICY, Scenario(40, Decimal("3000"), broken_promises=2, stage="legal"), NOON, 30)

    assert {e.stage for e in timeline} == {"legal"}


def test_the_cases_risk_band_picks_the_segment():
    risky = Segment(name="risky", match=SegmentMatch(risk_bands=["high"]), stages=DEFAULT_POLICY.stages)
    policy = DEFAULT_POLICY.model_copy(update={"segments": [risky]})

    _, resolved = simulate_resolved(policy, Scenario(20, Decimal("100"), risk_band="high"), NOON, 5)

    assert resolved.segment == "risky"
