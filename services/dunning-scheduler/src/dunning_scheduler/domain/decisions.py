"""What the scheduler decides for a case when it opens, changes, resumes or reaches a checkpoint."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from dunning_contracts.events import Stage
from dunning_scheduler.domain.calendar import Calendar
from dunning_scheduler.domain.ladder import Situation, escalation, next_escalation_day
from dunning_scheduler.domain.planner import Plan, plan_review, plan_stage
from dunning_scheduler.domain.policy import Policy

# plan_stage's signature: a caller deciding for many alike cases at once may pass one that reuses plans.
StagePlanner = Callable[[Policy, Stage, Calendar, datetime, list[datetime]], Plan]


@dataclass(frozen=True)
class Decision:
    stage: Stage
    # Set when the case moves up the ladder (a new case entering above `reminder` counts as a move).
    escalated_from: Stage | None
    reason: str
    plan: Plan


def decide(
    policy: Policy,
    current: Stage | None,
    situation: Situation,
    calendar: Calendar,
    now: datetime,
    sent: list[datetime],
    *,
    replan: bool = False,
    plan_stage: StagePlanner = plan_stage,
) -> Decision | None:
    """The stage and the plan; None when nothing changes (an open case staying where it is)."""
    verdict = escalation(policy, current, situation)
    if verdict is None and not replan:
        return None
    stage = verdict.stage if verdict else current
    reason = verdict.reason if verdict else f"resumed in {stage}"
    moved_from = (current or "reminder") if verdict and verdict.stage != (current or "reminder") else None
    return Decision(stage, moved_from, reason, full_plan(policy, stage, situation, calendar, now, sent, plan_stage))


def full_plan(
    policy: Policy, stage: Stage, situation: Situation, calendar: Calendar, now: datetime, sent: list[datetime],
    plan_stage: StagePlanner = plan_stage,
) -> Plan:
    plan = plan_stage(policy, stage, calendar, now, sent)
    review = plan_review(next_escalation_day(policy, stage, situation), stage, calendar)
    return replace(plan, actions=plan.actions + review)
