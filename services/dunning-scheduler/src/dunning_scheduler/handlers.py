"""One function per bus event the scheduler consumes, and the one table that routes them."""

import logging
import uuid

from dunning_contracts import CloudEvent
from dunning_contracts.events import LoanBooked, LoanOverdue, OverdueCleared
from dunning_messaging import UnitOfWork
from dunning_scheduler import casework, pauses
from dunning_scheduler.adapters.orm import Case
from dunning_scheduler.adapters.repository import AgentTaskRepository, LoanRepository
from dunning_scheduler.casework import Context, context_for, record
from dunning_scheduler.domain.calendar import Calendar

log = logging.getLogger(__name__)


async def on_loan_overdue(uow: UnitOfWork, event: CloudEvent, data: LoanOverdue) -> None:
    ctx = await context_for(uow, data.loan_id)
    case = await ctx.cases.unresolved_for_loan(data.loan_id)
    if case is not None:
        return await update_case(case, data, ctx)
    if await ctx.cases.resolved_since(data.loan_id, data.as_of):
        log.info("LoanOverdue older than the loan's last clearance; ignored", extra={"loan_id": data.loan_id})
        return
    await open_case(data, ctx)


async def open_case(data: LoanOverdue, ctx: Context) -> None:
    case = Case(
        id=uuid.uuid4(), status="open", broken_promises=0, opened_at=ctx.now, stage="reminder",
        contact_outcomes={}, failed_contacts=0, past_cures=len(await ctx.cases.for_loan(data.loan_id)),
    )
    observe(case, data, ctx)
    ctx.cases.add(case)
    record(ctx, case, "opened", f"loan {data.loan_id} is {data.days_past_due} days past due, {data.overdue_amount} {data.currency} overdue")
    await ctx.timers.cancel_pre_due(case.loan_id, "the loan is overdue: the case's reminders take over")
    casework.refresh_risk(case, ctx)
    # A new case has no stage yet: it enters even `reminder`, so its first action fires now.
    await casework.reconsider(case, ctx, replan=True, sent=[], new=True)


async def update_case(case: Case, data: LoanOverdue, ctx: Context) -> None:
    if data.as_of <= case.as_of:
        return  # the same observation again, or an older one overtaken by a newer
    before = case.overdue_amount
    observe(case, data, ctx)
    record(ctx, case, "updated", f"{data.days_past_due} days past due, overdue amount {before} -> {data.overdue_amount}")
    await pauses.settle_kept_promises(case, before, ctx)
    casework.refresh_risk(case, ctx)
    if case.status == "open":
        await casework.reconsider(case, ctx, replan=False)


def observe(case: Case, data: LoanOverdue, ctx: Context) -> None:
    calendar = Calendar.from_observation(data.as_of, data.days_past_due, ctx.borrower.timezone, ctx.policy.policy.contact_window)
    case.loan_id, case.borrower_id, case.lender, case.product = data.loan_id, data.borrower_id, data.lender, data.product
    case.currency, case.overdue_since, case.day_zero = data.currency, data.overdue_since, calendar.day_zero
    case.days_past_due, case.overdue_amount, case.penalty_accrued = data.days_past_due, data.overdue_amount, data.penalty_accrued
    case.outstanding_balance, case.as_of, case.updated_at = data.outstanding_balance, data.as_of, ctx.now
    case.policy_version = ctx.policy.version


async def on_overdue_cleared(uow: UnitOfWork, event: CloudEvent, data: OverdueCleared) -> None:
    ctx = await context_for(uow, data.loan_id)
    case = await ctx.cases.unresolved_for_loan(data.loan_id)
    if case is None:
        # Overtook its LoanOverdue: remember it, so that one cannot open a case for a paid loan.
        return await ctx.cases.remember_early_clearance(data.loan_id, data.cleared_at, data.reason)
    case.status, case.resolved_at, case.resolution, case.updated_at = "resolved", data.cleared_at, data.reason, ctx.now
    case.paused_until = case.pause_reason = None
    cancelled = await ctx.timers.cancel_for_case(case.id, f"resolved: {data.reason}")
    await AgentTaskRepository(uow.session).cancel_open(case.id, ctx.now)
    await pauses.close_on_resolution(case, ctx)
    record(ctx, case, "resolved", f"overdue cleared ({data.reason}); {cancelled} pending timers cancelled")
    profile = await LoanRepository(uow.session).get(data.loan_id)
    if profile is not None:
        await casework.plan_pre_due_reminders(ctx, profile)


async def on_loan_booked(uow: UnitOfWork, event: CloudEvent, data: LoanBooked) -> None:
    """Keep where and how the borrower is reached (no name, phone or e-mail) and the due dates."""
    loans = LoanRepository(uow.session)
    await loans.save(profile_values(data))
    ctx = await context_for(uow, data.loan_id)
    case = await ctx.cases.unresolved_for_loan(data.loan_id)
    if case is None:
        return await casework.plan_pre_due_reminders(ctx, await loans.get(data.loan_id))
    # The overdue notice came first (another topic, no order between them): speak the borrower's language now.
    changed = await ctx.timers.set_locale(case.id, data.borrower.locale)
    record(ctx, case, "updated", f"loan booked: locale {data.borrower.locale}, {changed} pending timers updated")


def profile_values(data: LoanBooked) -> dict:
    return {
        "loan_id": data.loan_id,
        "borrower_id": data.borrower.borrower_id,
        "lender": data.lender,
        "locale": data.borrower.locale,
        "timezone": data.borrower.timezone,
        "region": data.borrower.region,
        "due_dates": sorted({i.due_date.isoformat() for i in data.installments}),
        "booked_at": data.booked_at,
    }


HANDLERS = {
    "LoanOverdue": on_loan_overdue,
    "OverdueCleared": on_overdue_cleared,
    "LoanBooked": on_loan_booked,
}
