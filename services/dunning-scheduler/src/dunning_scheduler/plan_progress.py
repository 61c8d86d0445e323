"""A repayment plan's life once agreed: its reminders and checks while the case waits, what each check
decides (kept so far, completed, broken), and its end when the overdue amount is cleared."""

from datetime import date, datetime
from decimal import Decimal

from dunning_scheduler import case_events, casework
from dunning_scheduler.adapters.orm import Case, RepaymentPlan
from dunning_scheduler.adapters.payments import PaymentRepository
from dunning_scheduler.adapters.plans import PlanRepository
from dunning_scheduler.casework import Context, record
from dunning_scheduler.domain.pauses import paid_towards
from dunning_scheduler.domain.planner import PlannedAction
from dunning_scheduler.domain.plans import Installment, Verdict, assess, check_times, checked_by, next_check, plan_reminders


def installments_of(plan: RepaymentPlan) -> list[Installment]:
    return [Installment(i["seq"], date.fromisoformat(i["due_date"]), Decimal(i["amount"])) for i in plan.installments]


async def active_plan(case: Case, ctx: Context) -> RepaymentPlan | None:
    return await PlanRepository(ctx.uow.session).active(case.id)


def ends_at(plan: RepaymentPlan, case: Case, ctx: Context) -> datetime:
    """The check of the last instalment: the plan runs until then unless it breaks first."""
    return check_times(installments_of(plan), ctx.policy.policy.plans.grace_days, casework.calendar_of(case, ctx))[-1]


def next_check_action(plan: RepaymentPlan, case: Case, ctx: Context) -> PlannedAction | None:
    found = next_check(installments_of(plan), ctx.policy.policy.plans.grace_days, casework.calendar_of(case, ctx), ctx.now)
    if found is None:
        return None
    seq, at = found
    return casework.checkpoint("resume", at, case, f"instalment {seq} of the repayment plan is checked")


def reminder_rows(plan: RepaymentPlan, case: Case, ctx: Context) -> list[dict]:
    policy = ctx.policy.policy
    calendar = casework.calendar_of(case, ctx)
    actions = plan_reminders(installments_of(plan), policy.plans, calendar, case.stage, policy.reminder_ttl_hours, ctx.now)
    return casework.timer_rows(actions, case, ctx)


async def paid_since(plan: RepaymentPlan, case: Case, ctx: Context) -> Decimal:
    """The payments received since the plan was agreed (the overdue amount's fall when that is more)."""
    paid = await PaymentRepository(ctx.uow.session).paid_between(case.loan_id, plan.currency, plan.created_at)
    return paid_towards(paid, plan.overdue_at_plan, case.overdue_amount)


async def check(case: Case, ctx: Context) -> datetime | None:
    """At a resume checkpoint: decide on the instalments now past their date plus grace. Returns when
    the plan's pause ends while it still runs, None once it has ended."""
    plan = await active_plan(case, ctx)
    if plan is None:
        return None
    installments = installments_of(plan)
    checked = checked_by(installments, ctx.policy.policy.plans.grace_days, casework.calendar_of(case, ctx), ctx.now)
    if checked <= plan.kept_installments:
        return ends_at(plan, case, ctx)  # woken for another pause; nothing of the plan fell due
    verdict = assess(installments, await paid_since(plan, case, ctx), checked)
    plan.kept_installments = verdict.kept
    if verdict.status == "active":
        record(ctx, case, "plan_installment_kept", verdict.reason, details={"plan_id": str(plan.id)})
        return ends_at(plan, case, ctx)
    (complete if verdict.status == "completed" else break_plan)(case, plan, verdict, ctx)
    return None


def complete(case: Case, plan: RepaymentPlan, verdict: Verdict, ctx: Context) -> None:
    settle(plan, "completed", verdict.reason, ctx)
    record(ctx, case, "plan_completed", verdict.reason, details={"plan_id": str(plan.id)})
    case_events.plan_completed(case, plan, ctx)


def break_plan(case: Case, plan: RepaymentPlan, verdict: Verdict, ctx: Context) -> None:
    """A broken plan counts as a broken promise: the escalation rules see it when the policy resumes."""
    settle(plan, "broken", verdict.reason, ctx)
    plan.missed_seq = verdict.missed_seq
    case.broken_promises += 1
    casework.refresh_risk(case, ctx)
    reason = f"{verdict.reason}; counted as a broken promise, {case.broken_promises} in all"
    record(ctx, case, "plan_broken", reason, details={"plan_id": str(plan.id), "missed_seq": verdict.missed_seq})
    case_events.plan_broken(case, plan, ctx)


def settle(plan: RepaymentPlan, status: str, because: str, ctx: Context) -> None:
    plan.status, plan.settled_at, plan.settled_because = status, ctx.now, because


def close_on_resolution(case: Case, plan: RepaymentPlan | None, ctx: Context) -> None:
    """The overdue amount is cleared: nothing is left for the plan (the case's active one) to collect."""
    if plan is None:
        return
    because = f"overdue cleared ({case.resolution}) with {plan.kept_installments} of {len(plan.installments)} instalments checked"
    settle(plan, "completed", because, ctx)
    record(ctx, case, "plan_completed", because, details={"plan_id": str(plan.id)})
    case_events.plan_completed(case, plan, ctx)
