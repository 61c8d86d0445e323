"""What happens to promises, holds and repayment plans, told on dunning.case-events.v1. Each is emitted
into the outbox of the unit of work that made the change, so the event and the change commit together."""

from dunning_contracts.events import (
    HoldPlaced,
    HoldReleased,
    PlanAgreed,
    PlanBroken,
    PlanCompleted,
    PlanInstallment,
    PromiseBroken,
    PromiseKept,
    PromiseMade,
)
from dunning_scheduler.adapters.orm import Case, Hold, Promise, RepaymentPlan
from dunning_scheduler.casework import Context


def about(case: Case, ctx: Context) -> dict:
    return {"case_id": str(case.id), "loan_id": case.loan_id, "occurred_at": ctx.now}


def promise_made(case: Case, promise: Promise, by: str | None, ctx: Context) -> None:
    ctx.uow.emit("PromiseMade", PromiseMade(
        **about(case, ctx), promise_id=str(promise.id), amount=promise.amount, currency=case.currency,
        promised_date=promise.promised_date, taken_by=by,
    ))


def promise_kept(case: Case, promise: Promise, ctx: Context) -> None:
    ctx.uow.emit("PromiseKept", PromiseKept(**about(case, ctx), promise_id=str(promise.id)))


def promise_broken(case: Case, promise: Promise, ctx: Context) -> None:
    ctx.uow.emit("PromiseBroken", PromiseBroken(**about(case, ctx), promise_id=str(promise.id), broken_promises=case.broken_promises))


def hold_placed(case: Case, hold: Hold, ctx: Context) -> None:
    ctx.uow.emit("HoldPlaced", HoldPlaced(
        **about(case, ctx), hold_id=str(hold.id), reason=hold.reason, expires_at=hold.expires_at, placed_by=hold.created_by,
    ))


def hold_released(case: Case, hold: Hold, because: str, ctx: Context) -> None:
    ctx.uow.emit("HoldReleased", HoldReleased(**about(case, ctx), hold_id=str(hold.id), reason=hold.reason, released_because=because))


def plan_agreed(case: Case, plan: RepaymentPlan, ctx: Context) -> None:
    installments = [PlanInstallment.model_validate(i) for i in plan.installments]
    ctx.uow.emit("PlanAgreed", PlanAgreed(
        **about(case, ctx), plan_id=str(plan.id), currency=plan.currency, installments=installments, agreed_by=plan.created_by,
    ))


def plan_completed(case: Case, plan: RepaymentPlan, ctx: Context) -> None:
    ctx.uow.emit("PlanCompleted", PlanCompleted(**about(case, ctx), plan_id=str(plan.id)))


def plan_broken(case: Case, plan: RepaymentPlan, ctx: Context) -> None:
    ctx.uow.emit("PlanBroken", PlanBroken(**about(case, ctx), plan_id=str(plan.id), missed_seq=plan.missed_seq))
