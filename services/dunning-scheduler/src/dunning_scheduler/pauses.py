"""Promises to pay, holds and repayment plans: they pause a case, and its policy resumes when they end
or break. Each change is told on dunning.case-events.v1 in the same transaction."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from dunning_platform.errors import Conflict, InvalidInput, NotFound
from dunning_messaging import UnitOfWork
from dunning_scheduler import case_events, casework, plan_progress
from dunning_scheduler.adapters.orm import Case, Hold, Promise, RepaymentPlan
from dunning_scheduler.adapters.holds import HoldLookup
from dunning_scheduler.adapters.payments import PaymentRepository
from dunning_scheduler.adapters.plans import PlanRepository
from dunning_scheduler.adapters.repository import AgentTaskRepository, CaseRepository, HoldRepository, PromiseRepository
from dunning_scheduler.casework import Context, record
from dunning_scheduler.domain.pauses import promise_ends, promise_kept


async def open_case_for_command(uow: UnitOfWork, case_id: uuid.UUID) -> tuple[Case, Context]:
    case = await CaseRepository(uow.session).get(case_id, lock=True)
    if case is None:
        raise NotFound(f"no case {case_id}")
    if case.status == "resolved":
        raise Conflict(f"case {case_id} is resolved ({case.resolution}); nothing to pause")
    return case, await casework.context_for(uow, case.loan_id)


async def place_promise(uow: UnitOfWork, case_id: uuid.UUID, amount: Decimal, promised: date, by: str | None = None) -> Promise:
    case, ctx = await open_case_for_command(uow, case_id)
    calendar = casework.calendar_of(case, ctx)
    if promised < calendar.local_date(ctx.now):
        raise InvalidInput(f"date: {promised} is in the past for the borrower", field="date")
    promise = Promise(
        id=uuid.uuid4(), case_id=case.id, amount=amount, promised_date=promised,
        overdue_at_promise=case.overdue_amount, status="pending", created_at=ctx.now,
    )
    PromiseRepository(uow.session).add(promise)
    case_events.promise_made(case, promise, by, ctx)
    until = promise_ends(promised, ctx.policy.policy.promise_grace_days, calendar)
    await pause(case, until, f"promise to pay {amount} {case.currency} by {promised}", ctx)
    return promise


async def place_hold(uow: UnitOfWork, case_id: uuid.UUID, reason: str, expires_at: datetime, note: str | None, by: str) -> Hold:
    case, ctx = await open_case_for_command(uow, case_id)
    if expires_at <= ctx.now:
        raise InvalidInput("expires_at: must be in the future", field="expires_at")
    hold = Hold(
        id=uuid.uuid4(), case_id=case.id, reason=reason, note=note, expires_at=expires_at,
        created_at=ctx.now, created_by=by,
    )
    HoldRepository(uow.session).add(hold)
    case_events.hold_placed(case, hold, ctx)
    await pause(case, expires_at, f"hold: {reason}", ctx)
    return hold


async def release_hold(uow: UnitOfWork, case_id: uuid.UUID, hold_id: uuid.UUID, by: str) -> Hold:
    """Lift a hold before it expires; the case waits on what else pauses it, or resumes at once."""
    case, ctx = await open_case_for_command(uow, case_id)
    hold = await HoldLookup(uow.session).of_case(case.id, hold_id)
    if hold is None:
        raise NotFound(f"no hold {hold_id} on case {case_id}")
    if hold.released_at is not None:
        raise Conflict(f"hold {hold_id} was already released ({hold.released_because or 'released'})")
    hold.released_at, hold.released_because, hold.released_by = ctx.now, "released", by
    case_events.hold_released(case, hold, "released", ctx)
    details = {"hold_id": str(hold.id), "released_by": by}
    record(ctx, case, "hold_released", f"hold ({hold.reason}) released before it expired", details=details)
    # The pause is worked out again from what is left, not extended to the released hold's expiry.
    case.paused_until, case.pause_reason = None, None
    await resume_due(case, ctx)
    return hold


async def pause(case: Case, until: datetime, reason: str, ctx: Context) -> None:
    """Cancel what is pending and wait until the latest pause ends; one resume checkpoint then, or at the
    next check of a repayment plan, whose reminders are the only ones the case keeps meanwhile."""
    if case.status == "paused" and case.paused_until and case.paused_until > until:
        until = case.paused_until
    cancelled = await ctx.timers.cancel_for_case(case.id, f"paused: {reason}")
    await AgentTaskRepository(ctx.uow.session).cancel_open(case.id, ctx.now)
    case.status, case.paused_until, case.pause_reason, case.updated_at = "paused", until, reason, ctx.now
    await ctx.timers.add(await waiting_timers(case, until, ctx))
    record(ctx, case, "paused", f"{reason}; paused until {until.isoformat()}, {cancelled} pending timers cancelled")


async def waiting_timers(case: Case, until: datetime, ctx: Context) -> list[dict]:
    resume = casework.checkpoint("resume", until, case, "the pause ends")
    plan = await plan_progress.active_plan(case, ctx)
    if plan is None:
        return casework.timer_rows([resume], case, ctx)
    check = plan_progress.next_check_action(plan, case, ctx)
    first = check if check is not None and check.due_at < until else resume
    return casework.timer_rows([first], case, ctx) + plan_progress.reminder_rows(plan, case, ctx)


async def settle_kept_promises(case: Case, overdue_before: Decimal, ctx: Context, pending: list[Promise]) -> None:
    """On a new observation of the loan (LoanOverdue). The amount before it no longer decides: payments do.
    `pending`: the case's pending promises, loaded for a whole wave of cases at once (most have none)."""
    await settle_paid_promises(case, ctx, pending)


async def settle_paid_promises(case: Case, ctx: Context, pending: list[Promise] | None = None) -> None:
    """Keep each pending promise whose amount was paid between the promise and its date plus grace."""
    pending = await PromiseRepository(ctx.uow.session).pending(case.id) if pending is None else pending
    for promise in pending:
        paid = await paid_for_promise(case, promise, ctx)
        if promise_kept(promise.amount, paid, promise.overdue_at_promise, case.overdue_amount):
            promise.status, promise.settled_at = "kept", ctx.now
            case_events.promise_kept(case, promise, ctx)
            reason = f"{paid} {case.currency} paid since the promise of {promise.amount}; overdue amount {promise.overdue_at_promise} -> {case.overdue_amount}"
            record(ctx, case, "promise_kept", reason, details={"promise_id": str(promise.id)})


async def paid_for_promise(case: Case, promise: Promise, ctx: Context) -> Decimal:
    ends = promise_ends(promise.promised_date, ctx.policy.policy.promise_grace_days, casework.calendar_of(case, ctx))
    return await PaymentRepository(ctx.uow.session).paid_between(case.loan_id, case.currency, promise.created_at, ends)


@dataclass
class Pausing:
    """What may pause each of many cases (pending promises, active holds, the active plan), loaded at once."""

    promises: dict[uuid.UUID, list[Promise]]
    holds: dict[uuid.UUID, list[Hold]]
    plans: dict[uuid.UUID, RepaymentPlan]


async def pausing(session: AsyncSession, case_ids: list[uuid.UUID]) -> Pausing:
    return Pausing(
        await PromiseRepository(session).pending_of_cases(case_ids),
        await HoldRepository(session).active_of_cases(case_ids),
        await PlanRepository(session).active_of_cases(case_ids),
    )


def close_on_resolution(case: Case, ctx: Context, paused_by: Pausing) -> None:
    for promise in paused_by.promises.get(case.id, []):
        promise.status, promise.settled_at = "kept", ctx.now
        case_events.promise_kept(case, promise, ctx)
    for hold in paused_by.holds.get(case.id, []):
        hold.released_at, hold.released_because = ctx.now, "resolved"
        case_events.hold_released(case, hold, "resolved", ctx)
    plan_progress.close_on_resolution(case, paused_by.plans.get(case.id), ctx)


async def resume_due(case: Case, ctx: Context) -> None:
    """At a resume checkpoint: break the promises whose time is up, check the repayment plan, release
    expired holds, and resume the policy once nothing pauses the case any more (two broken promises, or
    broken plans, may escalate it)."""
    await settle_paid_promises(case, ctx)
    await break_overdue_promises(case, ctx)
    plan_ends = await plan_progress.check(case, ctx)
    ends = [plan_ends, await release_expired_holds(case, ctx), *await pending_promise_ends(case, ctx)]
    waiting_until = max((end for end in ends if end), default=None)
    if waiting_until and waiting_until > ctx.now:
        return await pause(case, waiting_until, case.pause_reason or "still paused", ctx)
    case.status, case.paused_until, case.pause_reason = "open", None, None
    record(ctx, case, "resumed", "nothing pauses the case any more; the policy resumes")
    await casework.reconsider(case, ctx, replan=True)


async def break_overdue_promises(case: Case, ctx: Context) -> None:
    calendar = casework.calendar_of(case, ctx)
    for promise in await PromiseRepository(ctx.uow.session).pending(case.id):
        if promise_ends(promise.promised_date, ctx.policy.policy.promise_grace_days, calendar) <= ctx.now:
            promise.status, promise.settled_at = "broken", ctx.now
            case.broken_promises += 1
            casework.refresh_risk(case, ctx)
            case_events.promise_broken(case, promise, ctx)
            record(ctx, case, "promise_broken", f"{promise.amount} promised by {promise.promised_date} was not paid; {case.broken_promises} broken in all")


async def release_expired_holds(case: Case, ctx: Context) -> datetime | None:
    latest = None
    for hold in await HoldRepository(ctx.uow.session).active(case.id):
        if hold.expires_at <= ctx.now:
            hold.released_at, hold.released_because = ctx.now, "expired"
            case_events.hold_released(case, hold, "expired", ctx)
            record(ctx, case, "hold_released", f"hold ({hold.reason}) expired")
        else:
            latest = max(latest or hold.expires_at, hold.expires_at)
    return latest


async def pending_promise_ends(case: Case, ctx: Context) -> list[datetime]:
    calendar = casework.calendar_of(case, ctx)
    grace = ctx.policy.policy.promise_grace_days
    return [promise_ends(p.promised_date, grace, calendar) for p in await PromiseRepository(ctx.uow.session).pending(case.id)]

