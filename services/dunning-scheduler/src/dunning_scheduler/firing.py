"""Firing due timers. Action timers (reminders, agent work) go in set-based batches: one statement
claims and marks a batch and writes its events and tasks, in that same transaction. A fired timer
is itself the record of the action (when, why, under which policy version): the case's history shows it.
Checkpoints (stage reviews, the end of a pause) need the case's rules, so each gets its own."""

import json
import uuid

from dunning_contracts import Topics
from dunning_messaging import UnitOfWork
from dunning_scheduler import casework, pauses
from dunning_scheduler.adapters.firing_sql import fire_due
from dunning_scheduler.adapters.repository import CaseRepository, LoanRepository, PolicyRepository, TimerClaims
from dunning_scheduler.domain.ladder import next_escalation_day
from dunning_scheduler.domain.planner import ACTION_KINDS, PRE_DUE_NEXT, plan_review
from dunning_scheduler.metrics import TIMERS_FIRED

CHECKPOINT_KINDS = ("review", "resume", PRE_DUE_NEXT)


async def fire_due_actions(uow: UnitOfWork, limit: int, source: str) -> list:
    """Claim up to `limit` due action timers and write what they do; the caller commits, then
    calls `metrics.observe_fired` (a timer counts as fired when its events are committed, not before)."""
    now = uow.clock.now()
    return await fire_due(uow.session, now, limit, ACTION_KINDS, topic=Topics.REMINDER_REQUESTED, source_json=json.dumps(source))


async def due_checkpoints(uow: UnitOfWork, limit: int) -> list:
    return await TimerClaims(uow.session).due_checkpoints(uow.clock.now(), limit, CHECKPOINT_KINDS)


async def fire_checkpoint(uow: UnitOfWork, timer_id: int, case_id: uuid.UUID | None, loan_id: str) -> bool:
    if case_id is None:
        return await plan_next_installment(uow, timer_id, loan_id)
    # The case is locked before the timer, in the order the event handlers lock them: no deadlock.
    case = await CaseRepository(uow.session).get(case_id, lock=True)
    kind = await TimerClaims(uow.session).claim_one(timer_id, uow.clock.now())
    if case is None or kind is None:
        return False
    TIMERS_FIRED.labels(kind).inc()
    ctx = await casework.context_for(uow, case.loan_id)
    if kind == "resume" and case.status == "paused":
        await pauses.resume_due(case, ctx)
    elif kind == "review" and case.status == "open":
        await review(case, ctx)
    return True


async def review(case, ctx: casework.Context) -> None:
    """The day a later stage may begin: escalate, or wait for the next day that might call for one."""
    if await casework.reconsider(case, ctx, replan=False) is not None:
        return
    situation = casework.situation_of(case, ctx)
    day = next_escalation_day(casework.policy_for(case, ctx), case.stage, situation)
    await ctx.timers.add(casework.timer_rows(plan_review(day, case.stage, casework.calendar_of(case, ctx)), case, ctx))


async def plan_next_installment(uow: UnitOfWork, timer_id: int, loan_id: str) -> bool:
    """A loan's pre-due checkpoint: the reminders before its next installment, unless a case has taken
    over (its opening cancels this checkpoint, unless both ran at once)."""
    # Locked in the order a booking locks them (the loan by its upsert, its cases, then its timers by
    # the replanning's cancel): a restructuring and this checkpoint never both plan the next reminders.
    profile = await LoanRepository(uow.session).get(loan_id, lock=True)
    taken_over = await CaseRepository(uow.session).unresolved_for_loans([loan_id])
    kind = await TimerClaims(uow.session).claim_one(timer_id, uow.clock.now())
    if kind is None:
        return False
    TIMERS_FIRED.labels(kind).inc()
    if profile is None or taken_over:
        return True
    policy = await PolicyRepository(uow.session).active()
    ctx = casework.Context(uow, policy, casework.borrower_of(profile), uow.clock.now(), casework.Writes())
    ctx.writes.timers += casework.pre_due_timers(ctx, loan_id, profile.borrower_id, profile.due_dates)
    await ctx.writes.write(uow)
    return True
