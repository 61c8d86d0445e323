"""A dry run: the timeline a loan would get under a policy, made by the same rules as real cases,
with the timers replaced by a list in memory."""

import heapq
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count

from dunning_scheduler.domain.calendar import Calendar
from dunning_scheduler.domain.decisions import Decision, decide
from dunning_scheduler.domain.ladder import Situation, next_escalation_day
from dunning_scheduler.domain.planner import PlannedAction, plan_pre_due, plan_review
from dunning_scheduler.domain.policy import Policy
from dunning_scheduler.domain.risk import score
from dunning_scheduler.domain.segments import CaseProfile, Resolved, resolve


@dataclass(frozen=True)
class Scenario:
    days_past_due: int  # below 1: the installment falls due in that many days (0: today)
    overdue_amount: Decimal
    timezone: str = "Asia/Shanghai"
    broken_promises: int = 0
    # For the policy's segments and experiment arms.
    loan_id: str = "simulation"
    lender: str = ""
    product: str = ""
    # A real case's standing: its stage (the run starts there) and what its risk score and ladder know.
    stage: str | None = None
    risk_band: str | None = None
    failed_contacts: int = 0


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    day: int
    kind: str
    stage: str
    reason: str
    channel: str | None = None
    template: str | None = None


class Simulation:
    def __init__(self, policy: Policy, scenario: Scenario, start: datetime) -> None:
        band = scenario.risk_band or score(max(scenario.days_past_due, 0), scenario.overdue_amount, scenario.broken_promises).band
        profile = CaseProfile(
            scenario.loan_id, scenario.lender, scenario.product, scenario.overdue_amount,
            max(scenario.days_past_due, 0), band,
        )
        self.resolved = resolve(policy, profile)
        self.policy, self.scenario = self.resolved.policy, scenario
        self.calendar = Calendar.from_observation(start, scenario.days_past_due, scenario.timezone, policy.contact_window)
        self.stage: str | None = None
        self.sent: list[datetime] = []
        self.timeline: list[TimelineEntry] = []
        self._queue: list = []
        self._order = count()

    def run(self, start: datetime, days: int) -> list[TimelineEntry]:
        end = start + timedelta(days=days)
        if self.scenario.days_past_due >= 1:
            # A case already in a stage carries on with that stage's actions, as a resumed case does.
            self.stage = self.scenario.stage
            self._decide(start, replan=self.stage is not None)
        else:
            self._push(plan_pre_due(self.policy, [self.calendar.day_zero], self.scenario.timezone, start))
            self._push([PlannedAction("review", self.calendar.opening(1), "reminder", 1, "the first day past due")])
        while self._queue and self._queue[0][0] <= end:
            self._handle(heapq.heappop(self._queue)[2])
        return sorted(self.timeline, key=lambda entry: entry.at)

    def _situation(self, at: datetime) -> Situation:
        s = self.scenario
        return Situation(self.calendar.days_past_due(at), s.overdue_amount, s.broken_promises, s.failed_contacts)

    def _decide(self, at: datetime, replan: bool = False) -> None:
        decision = decide(self.policy, self.stage, self._situation(at), self.calendar, at, self.sent, replan=replan)
        if decision is None:
            day = next_escalation_day(self.policy, self.stage, self._situation(at))
            return self._push(plan_review(day, self.stage, self.calendar))
        self._enter(decision, at)

    def _enter(self, decision: Decision, at: datetime) -> None:
        if decision.escalated_from:
            self._log(at, "escalation", decision.stage, f"{decision.escalated_from} -> {decision.stage}: {decision.reason}")
        self.stage, self._queue = decision.stage, []
        self._push(decision.plan.actions)
        for skipped in decision.plan.skipped:
            self._log(skipped.action.due_at, "skipped", decision.stage, skipped.reason, skipped.action)

    def _handle(self, action: PlannedAction) -> None:
        if action.kind == "review":
            return self._decide(action.due_at)
        self._log(action.due_at, action.kind, action.stage, action.reason, action)
        if action.kind == "reminder":
            self.sent.append(action.not_before)

    def _push(self, actions: list[PlannedAction]) -> None:
        for action in actions:
            heapq.heappush(self._queue, (action.due_at, next(self._order), action))

    def _log(self, at: datetime, kind: str, stage: str, reason: str, action: PlannedAction | None = None) -> None:
        channel, template = (action.channel, action.template) if action else (None, None)
        entry = TimelineEntry(at, self.calendar.days_past_due(at), kind, stage, reason, channel, template)
        self.timeline.append(entry)


def simulate(policy: Policy, scenario: Scenario, start: datetime, days: int) -> list[TimelineEntry]:
    return Simulation(policy, scenario, start).run(start, days)


def simulate_resolved(policy: Policy, scenario: Scenario, start: datetime, days: int) -> tuple[list[TimelineEntry], Resolved]:
    """The timeline, and the segment and arm the loan would be in."""
    simulation = Simulation(policy, scenario, start)
    return simulation.run(start, days), simulation.resolved

