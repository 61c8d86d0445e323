"""Agreeing a repayment plan: its terms are checked against the case and the policy, then the case
waits on the plan's own schedule instead of the policy's."""

import uuid
from datetime import date
from decimal import Decimal

from dunning_messaging import UnitOfWork
from dunning_platform.errors import Conflict, InvalidInput
from dunning_scheduler import case_events, casework, pauses, plan_progress
from dunning_scheduler.adapters.orm import Case, RepaymentPlan
from dunning_scheduler.adapters.plans import PlanRepository
from dunning_scheduler.casework import Context, record
from dunning_scheduler.domain.plans import Installment, PlanRefused, check_terms, numbered, total_of


async def agree_plan(
    uow: UnitOfWork, case_id: uuid.UUID, currency: str, total: Decimal, terms: list[tuple[date, Decimal]], by: str | None
) -> RepaymentPlan:
    case, ctx = await pauses.open_case_for_command(uow, case_id)
    if await plan_progress.active_plan(case, ctx) is not None:
        raise Conflict(f"case {case_id} already has an active repayment plan")
    installments = numbered(terms)
    refuse_unless_agreeable(installments, currency, total, case, ctx)
    plan = new_plan(case, installments, by, ctx)
    PlanRepository(uow.session).add(plan)
    case_events.plan_agreed(case, plan, ctx)
    reason = describe(installments, case.currency)
    record(ctx, case, "plan_agreed", reason, details={"plan_id": str(plan.id), "installments": plan.installments})
    await pauses.pause(case, plan_progress.ends_at(plan, case, ctx), reason, ctx)
    return plan


def refuse_unless_agreeable(installments: list[Installment], currency: str, total: Decimal, case: Case, ctx: Context) -> None:
    today = casework.calendar_of(case, ctx).local_date(ctx.now)
    try:
        check_terms(installments, currency, case.currency, total, today, ctx.policy.policy.plans)
    except PlanRefused as refused:
        raise InvalidInput(str(refused), field=refused.field) from None


def new_plan(case: Case, installments: list[Installment], by: str | None, ctx: Context) -> RepaymentPlan:
    return RepaymentPlan(
        id=uuid.uuid4(), case_id=case.id, loan_id=case.loan_id, currency=case.currency, total=total_of(installments),
        installments=[{"seq": i.seq, "due_date": i.due_date.isoformat(), "amount": str(i.amount)} for i in installments],
        overdue_at_plan=case.overdue_amount, status="active", kept_installments=0, created_at=ctx.now, created_by=by,
    )


def describe(installments: list[Installment], currency: str) -> str:
    first, last = installments[0], installments[-1]
    return (
        f"repayment plan: {len(installments)} instalments, {total_of(installments)} {currency} "
        f"from {first.due_date} to {last.due_date}"
    )
