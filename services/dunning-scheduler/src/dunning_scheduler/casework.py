"""Applying the domain's decisions to a case: its row, its timers, its history and the events it emits.
Shared by the event handlers, the HTTP commands and the timer loop; nothing here commits."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dunning_contracts.events import CaseEscalated, Stage
from dunning_messaging import UnitOfWork
from dunning_platform.tracing import current_trace_id
from dunning_scheduler.adapters.orm import Case, HistoryEntry, LoanProfile, NewCase
from dunning_scheduler.adapters.repository import BulkWriter, CaseRepository, LoanRepository, PolicyRepository, TimerRepository
from dunning_scheduler.at_once import due_for_the_loop, fire_due_reminders
from dunning_scheduler.domain.borrower import DEFAULT_CONTEXT, BorrowerContext
from dunning_scheduler.domain.calendar import Calendar
from dunning_scheduler.domain.decisions import Decision, StagePlanner, decide
from dunning_scheduler.domain.ladder import Situation
from dunning_scheduler.domain.planner import PlannedAction, Plan, plan_pre_due, plan_stage
from dunning_scheduler.domain.policy import ALWAYS_OPEN, ContactWindow, Policy, VersionedPolicy
from dunning_scheduler.domain.risk import score
from dunning_scheduler.domain.segments import CaseProfile, resolve


# The loop that fires timers; woken when a unit of work added one.
TIMERS = "timers"


@dataclass
class Writes:
    """What a run of events decided, gathered while deciding and written afterwards in a few statements
    (COPY), instead of a round trip per case. Cases opened in the run have no timers in the database yet."""

    cases: list[NewCase] = field(default_factory=list)
    new_ids: set[uuid.UUID] = field(default_factory=set)
    history: list[dict] = field(default_factory=list)
    timers: list[dict] = field(default_factory=list)
    # Reminders fired in the last 7 days per case (for the caps), loaded for the whole run at once.
    sent: dict[uuid.UUID, list[datetime]] = field(default_factory=dict)
    # Stage plans by what decides them (see `stage_planner`): the cases of a run mostly share them.
    plans: dict[tuple, Plan] = field(default_factory=dict)
    # Pre-due reminders by what decides them (see `pre_due_plan`).
    pre_due_plans: dict[tuple, list[PlannedAction]] = field(default_factory=dict)
    # The history's description of each planned action, by the action's identity (see `described`).
    descriptions: dict[int, tuple[PlannedAction, dict]] = field(default_factory=dict)
    # What a timer's payload holds of its action, by the action's identity and version (see `planned_content`).
    contents: dict[tuple, tuple[PlannedAction, dict]] = field(default_factory=dict)

    def opened(self, case: NewCase) -> None:
        self.cases.append(case)
        self.new_ids.add(case.id)
        self.sent[case.id] = []

    async def write(self, uow: UnitOfWork) -> None:
        now = uow.clock.now()
        await fire_due_reminders(uow, self.timers, now)
        writer = BulkWriter(uow.session)
        await writer.cases(self.cases)
        await writer.history(self.history)
        await writer.timers(self.timers)
        if due_for_the_loop(self.timers, now):
            uow.signal_after_commit(TIMERS)


@dataclass
class Context:
    """What every decision about a case needs beside the case itself."""

    uow: UnitOfWork
    policy: VersionedPolicy
    borrower: BorrowerContext
    now: datetime
    # Set when deciding for a run of events: history and timers are gathered there, not written one by one.
    writes: Writes | None = None

    @property
    def cases(self) -> CaseRepository:
        return CaseRepository(self.uow.session)

    @property
    def timers(self) -> TimerRepository:
        # A timer due now should not wait for the loop's next poll: wake it when this work commits.
        buffer = self.writes.timers if self.writes else None
        return TimerRepository(self.uow.session, on_added=lambda: self.uow.signal_after_commit(TIMERS), buffer=buffer)


async def context_for(uow: UnitOfWork, loan_id: str) -> Context:
    policy = await PolicyRepository(uow.session).active()
    profile = await LoanRepository(uow.session).get(loan_id)
    return Context(uow, policy, borrower_of(profile), uow.clock.now())


def borrower_of(profile: LoanProfile | None) -> BorrowerContext:
    if profile is None:
        return DEFAULT_CONTEXT
    return BorrowerContext(profile.locale, profile.timezone, profile.region)


def calendar_of(case: Case, ctx: Context) -> Calendar:
    return Calendar.of(case.day_zero, ctx.borrower.timezone, contact_window(ctx))


def contact_window(ctx: Context) -> ContactWindow:
    return ctx.policy.policy.contact_window if ctx.borrower.known else ALWAYS_OPEN


def situation_of(case: Case, ctx: Context) -> Situation:
    today = max(case.days_past_due, calendar_of(case, ctx).days_past_due(ctx.now))
    return Situation(today, case.overdue_amount, case.broken_promises, case.failed_contacts)


def refresh_risk(case: Case, ctx: Context) -> None:
    """The scorecard as the case stands now; agents' queues are ranked by it."""
    s = situation_of(case, ctx)
    risk = score(s.days_past_due, s.overdue_amount, s.broken_promises, case.contact_outcomes, case.past_cures)
    case.risk_points, case.risk_band = risk.points, risk.band
    case.risk_factors = [{"name": f.name, "value": f.value, "points": f.points} for f in risk.factors]


async def recent_reminders(case: Case, ctx: Context) -> list[datetime]:
    if ctx.writes and case.id in ctx.writes.sent:
        return ctx.writes.sent[case.id]
    return await ctx.timers.reminders_sent_since(case.id, ctx.now - timedelta(days=7))


def policy_for(case: Case, ctx: Context) -> Policy:
    """The policy with the case's own ladder: its segment's, or its experiment arm's. Noted on the case."""
    s = situation_of(case, ctx)
    profile = CaseProfile(case.loan_id, case.lender, case.product, s.overdue_amount, s.days_past_due, case.risk_band)
    resolved = resolve(ctx.policy.policy, profile)
    case.segment, case.arm = resolved.segment, resolved.arm
    return resolved.policy


async def reconsider(
    case: Case, ctx: Context, *, replan: bool, sent: list[datetime] | None = None, new: bool = False
) -> Decision | None:
    """Decide the case's stage and plan again; apply what changed."""
    sent = await recent_reminders(case, ctx) if sent is None else sent
    current = None if new else case.stage
    policy, situation, calendar = policy_for(case, ctx), situation_of(case, ctx), calendar_of(case, ctx)
    decision = decide(policy, current, situation, calendar, ctx.now, sent, replan=replan, plan_stage=stage_planner(case, ctx))
    if decision is not None:
        await apply(case, decision, ctx)
    return decision


def stage_planner(case: Case, ctx: Context) -> StagePlanner:
    """plan_stage, reusing the run's plans: a stage's plan depends only on the case's ladder (the
    policy version, its segment and arm), its local calendar, now and the reminders it was sent, and
    the cases falling overdue on one morning share all of them but the last few reminders sent."""
    if ctx.writes is None:
        return plan_stage
    plans = ctx.writes.plans

    def planned(policy: Policy, stage: Stage, calendar: Calendar, now: datetime, sent: list[datetime]) -> Plan:
        key = (ctx.policy.version, case.segment, case.arm, stage, calendar.day_zero, calendar.timezone, calendar.window, now, tuple(sent))
        if key not in plans:
            plans[key] = plan_stage(policy, stage, calendar, now, sent)
        return plans[key]

    return planned


async def apply(case: Case, decision: Decision, ctx: Context) -> None:
    cancelled = 0
    # A case opened in this run was scored a moment ago, from the same facts, and has no timers yet.
    if not is_new(case, ctx):
        refresh_risk(case, ctx)
        cancelled = await ctx.timers.cancel_for_case(case.id, f"replanned: {decision.reason}")
    if decision.escalated_from:
        escalate(case, decision, ctx)
    case.stage, case.policy_version, case.updated_at = decision.stage, ctx.policy.version, ctx.now
    await ctx.timers.add(timer_rows(decision.plan.actions, case, ctx))
    details = plan_details(decision.plan, ctx.writes) | {"segment": case.segment, "arm": case.arm}
    record(ctx, case, "planned", plan_summary(decision.plan, cancelled), details=details)


def is_new(case: Case, ctx: Context) -> bool:
    """A case opened in this run: it has no timers yet, so there is nothing to cancel."""
    return ctx.writes is not None and case.id in ctx.writes.new_ids


def escalate(case: Case, decision: Decision, ctx: Context) -> None:
    ctx.uow.emit(
        "CaseEscalated",
        CaseEscalated(
            case_id=str(case.id),
            loan_id=case.loan_id,
            borrower_id=case.borrower_id,
            from_stage=decision.escalated_from,
            to_stage=decision.stage,
            reason=decision.reason,
            days_past_due=situation_of(case, ctx).days_past_due,
            overdue_amount=case.overdue_amount,
            currency=case.currency,
            escalated_at=ctx.now,
        ),
    )
    record(ctx, case, "escalated", decision.reason, stage=decision.stage, details={"from": decision.escalated_from})


def checkpoint(kind: str, at: datetime, case: Case, reason: str) -> PlannedAction:
    """A timer of the case's own: a `review` of its stage or the `resume` after a pause."""
    return PlannedAction(kind, at, case.stage, None, reason)


def plan_summary(plan: Plan, cancelled: int) -> str:
    summary = f"{len(plan.actions)} timers planned"
    if plan.skipped:
        summary += f", {len(plan.skipped)} reminders left out by the caps"
    return summary + (f", {cancelled} earlier ones cancelled" if cancelled else "")


def plan_details(plan: Plan, writes: Writes | None = None) -> dict[str, Any]:
    return {
        "planned": [described(a, writes) for a in plan.actions],
        "skipped": [described(s.action, writes) | {"skipped": s.reason} for s in plan.skipped],
    }


def described(action: PlannedAction, writes: Writes | None) -> dict[str, Any]:
    """describe(action), once per run for the actions its cases share (a shared stage plan's): formatting
    the dates was most of a new case's history line. The memo holds the action itself, so the id it is
    keyed by cannot be reused by another action while the run lasts."""
    if writes is None:
        return describe(action)
    memo = writes.descriptions.get(id(action))
    if memo is None or memo[0] is not action:
        memo = writes.descriptions[id(action)] = (action, describe(action))
    return memo[1]


def describe(action: PlannedAction) -> dict[str, Any]:
    described = {"kind": action.kind, "due_at": action.due_at.isoformat(), "day": action.day, "reason": action.reason}
    if action.channel:
        described |= {"channel": action.channel, "template": action.template}
    return described


def timer_rows(
    actions: list[PlannedAction], case: Case | None, ctx: Context, *, loan_id: str = "", borrower_id: str = ""
) -> list[dict]:
    """The rows of planned timers. No reminder id and no event text: PostgreSQL gives a timer its
    reminder id as it is written, and the ReminderRequested is built from the timer's row when it fires
    (`adapters/firing_sql.FIRE_DUE`; `at_once` for those due as they are planned). A case ends long
    before most of what its plan holds falls due, so nothing is spent on an event that is never sent."""
    loan_id = case.loan_id if case else loan_id
    addressee = case.borrower_id if case else borrower_id
    case_id = case.id if case else None
    trace_id = current_trace_id()
    return [
        {
            "case_id": case_id,
            "loan_id": loan_id,
            "kind": action.kind,
            "due_at": action.due_at,
            "payload": payload(action, ctx, addressee, trace_id),
            "created_at": ctx.now,
        }
        for action in actions
    ]


def payload(action: PlannedAction, ctx: Context, borrower_id: str, trace_id: str | None) -> dict[str, Any]:
    """Why and under which version the timer exists; shown in the case's plan and history. The trace is
    that of the event that planned it, continued by what the timer emits. A reminder's also holds the
    rest of its ReminderRequested: whom, and the window to send it in. Each timer gets its own dict."""
    content = planned_content(action, ctx) | {"trace_id": trace_id}
    if action.kind == "reminder":
        content["borrower_id"] = borrower_id
    return content


def planned_content(action: PlannedAction, ctx: Context) -> dict[str, Any]:
    """What a payload holds of its action, the policy version and the borrower's language: the same for
    every case of a run that shares a plan (a morning's new cases mostly do), so worked out once per run
    and action (formatting the window's two times was most of a payload). Keyed as `described` is."""
    key = (id(action), ctx.policy.version, ctx.borrower.locale)
    memo = ctx.writes.contents.get(key) if ctx.writes is not None else None
    if memo is None or memo[0] is not action:
        memo = (action, _content(action, ctx.policy.version, ctx.borrower.locale))
        if ctx.writes is not None:
            ctx.writes.contents[key] = memo
    return memo[1]


def _content(action: PlannedAction, policy_version: int, locale: str) -> dict[str, Any]:
    content = {"stage": action.stage, "day": action.day, "reason": action.reason, "policy_version": policy_version}
    content |= {"locale": locale, "template": action.template}
    if action.channel:
        content["channel"] = action.channel
    if action.not_before:
        content["not_before"] = action.not_before.isoformat()  # counted by the caps once fired
    if action.kind == "reminder":
        content["expires_at"] = action.expires_at.isoformat() if action.expires_at else None
    return content


def record(ctx: Context, case: Case, kind: str, reason: str, *, stage: str | None = None, details: dict | None = None) -> None:
    """One line of the case's history: what was decided, under which policy version, and why."""
    entry = dict(
        case_id=case.id, at=ctx.now, kind=kind, stage=stage or case.stage,
        policy_version=ctx.policy.version, reason=reason, details=details or {},
    )
    if ctx.writes is not None:
        return ctx.writes.history.append(entry)
    ctx.uow.session.add(HistoryEntry(**entry))


def pre_due_timers(ctx: Context, loan_id: str, borrower_id: str, due_dates: list[str]) -> list[dict]:
    return timer_rows(pre_due_plan(ctx, due_dates), None, ctx, loan_id=loan_id, borrower_id=borrower_id)


def pre_due_plan(ctx: Context, due_dates: list[str]) -> list[PlannedAction]:
    """plan_pre_due, once per run for the loans that share their due dates and time zone (a day's
    bookings of a product mostly do): the plan depends on nothing else but the policy and now."""
    key = (ctx.policy.version, ctx.borrower.timezone, ctx.now, tuple(due_dates))
    plans = ctx.writes.pre_due_plans if ctx.writes is not None else {}
    if key not in plans:
        dates = [datetime.fromisoformat(d).date() for d in due_dates]
        plans[key] = plan_pre_due(ctx.policy.policy, dates, ctx.borrower.timezone, ctx.now)
    return plans[key]
