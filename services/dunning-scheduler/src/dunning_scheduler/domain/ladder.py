"""The stage ladder: which stage a case belongs in, and why."""

from dataclasses import dataclass
from decimal import Decimal

from dunning_contracts.events import STAGES, Stage
from dunning_scheduler.domain.policy import EntryRule, Policy

@dataclass(frozen=True)
class Situation:
    days_past_due: int
    overdue_amount: Decimal
    broken_promises: int = 0
    failed_contacts: int = 0


@dataclass(frozen=True)
class StageVerdict:
    stage: Stage
    reason: str


def explain(rule: EntryRule, situation: Situation) -> str | None:
    """Why the rule holds for the situation, or None when it does not."""
    reasons = []
    if rule.min_days_past_due is not None:
        if situation.days_past_due < rule.min_days_past_due:
            return None
        reasons.append(f"days past due {situation.days_past_due} >= {rule.min_days_past_due}")
    if rule.min_overdue_amount is not None:
        if situation.overdue_amount < rule.min_overdue_amount:
            return None
        reasons.append(f"overdue amount {situation.overdue_amount} >= {rule.min_overdue_amount}")
    if rule.min_broken_promises is not None:
        if situation.broken_promises < rule.min_broken_promises:
            return None
        reasons.append(f"broken promises {situation.broken_promises} >= {rule.min_broken_promises}")
    if rule.min_failed_contacts is not None:
        if situation.failed_contacts < rule.min_failed_contacts:
            return None
        reasons.append(f"failed contacts in a row {situation.failed_contacts} >= {rule.min_failed_contacts}")
    return " and ".join(reasons)


def stage_for(policy: Policy, situation: Situation) -> StageVerdict:
    """The highest stage whose entry rule holds; `reminder` when none above it does."""
    for stage in reversed(policy.stages[1:]):
        for rule in stage.entry:
            reason = explain(rule, situation)
            if reason is not None:
                return StageVerdict(stage.name, reason)
    return StageVerdict("reminder", f"days past due {situation.days_past_due}: no later stage applies")


def higher(a: Stage, b: Stage) -> bool:
    return STAGES.index(a) > STAGES.index(b)


def escalation(policy: Policy, current: Stage | None, situation: Situation) -> StageVerdict | None:
    """The verdict when the case must move up (or is new); None when it stays. Stages never move down
    while a case is open: a partial payment does not withdraw a referral already made."""
    verdict = stage_for(policy, situation)
    if current is None or higher(verdict.stage, current):
        return verdict
    return None


def next_escalation_day(policy: Policy, current: Stage, situation: Situation) -> int | None:
    """The first later day on which the days past due alone would move the case up, if any."""
    # Only a day-past-due threshold can change the verdict as time passes, so only those are tried.
    thresholds = {r.min_days_past_due for s in policy.stages for r in s.entry if r.min_days_past_due is not None}
    for day in sorted(d for d in thresholds if d > situation.days_past_due):
        later = Situation(day, situation.overdue_amount, situation.broken_promises, situation.failed_contacts)
        if higher(stage_for(policy, later).stage, current):
            return day
    return None
