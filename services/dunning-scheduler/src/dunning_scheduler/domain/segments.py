"""Which ladder a case follows: the first segment it matches, then its arm of a champion/challenger
test, assigned by a hash of the loan id so a loan always lands in the same arm."""

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from dunning_scheduler.domain.policy import Arm, Policy, SegmentMatch


@dataclass(frozen=True)
class CaseProfile:
    loan_id: str
    lender: str
    product: str
    overdue_amount: Decimal
    days_past_due: int
    risk_band: str


@dataclass(frozen=True)
class Resolved:
    """The policy with the case's own ladder in place; `segment` and `arm` say where it came from."""

    policy: Policy
    segment: str | None
    arm: str | None


def matches(match: SegmentMatch, case: CaseProfile) -> bool:
    checks = (
        match.lenders is None or case.lender in match.lenders,
        match.products is None or case.product in match.products,
        match.min_overdue_amount is None or case.overdue_amount >= match.min_overdue_amount,
        match.max_overdue_amount is None or case.overdue_amount <= match.max_overdue_amount,
        match.min_days_past_due is None or case.days_past_due >= match.min_days_past_due,
        match.max_days_past_due is None or case.days_past_due <= match.max_days_past_due,
        match.risk_bands is None or case.risk_band in match.risk_bands,
    )
    return all(checks)


def bucket(loan_id: str, experiment: str) -> int:
    """0..99, the same for a loan and an experiment every time, on every replica."""
    digest = hashlib.sha256(f"{experiment}:{loan_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def arm_for(arms: list[Arm], slot: int) -> Arm:
    edge = 0
    for arm in arms:
        edge += arm.percent
        if slot < edge:
            return arm
    return arms[-1]


def resolve(policy: Policy, case: CaseProfile) -> Resolved:
    segment = next((s for s in policy.segments if matches(s.match, case)), None)
    stages = segment.stages if segment else policy.stages
    arm = None
    if policy.experiment:
        arm = arm_for(policy.experiment.arms, bucket(case.loan_id, policy.experiment.name))
        stages = arm.stages or stages
    effective = replace_stages(policy, stages)
    return Resolved(effective, segment.name if segment else None, arm.name if arm else None)


def replace_stages(policy: Policy, stages) -> Policy:
    if stages is policy.stages:
        return policy
    return policy.model_copy(update={"stages": stages})

