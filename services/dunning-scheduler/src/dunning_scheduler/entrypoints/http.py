"""The scheduler's HTTP API: cases, promises, holds, repayment plans, and the dunning policy."""

import uuid

from fastapi import APIRouter, Depends, Query, Request

from dunning_platform.auth import Principal, require_scope
from dunning_platform.errors import Conflict, NotFound
from dunning_platform.problems import problem_responses
from dunning_scheduler import pauses, plans
from dunning_scheduler.adapters.plans import PlanRepository
from dunning_scheduler.adapters.repository import CaseRepository, PolicyRepository, TimerRepository
from dunning_scheduler.domain.policy import Policy
from dunning_scheduler.domain.simulation import Scenario, simulate_resolved
from dunning_scheduler.entrypoints.schemas import (
    NO_NUL,
    HoldIn,
    PlanIn,
    PolicyIn,
    PromiseIn,
    SimulateIn,
    case_summary,
    merged_history,
    pending_view,
    plan_view,
    timeline_view,
)

# Every route takes a bearer token and is validated; each route adds what its own code can answer.
cases_router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=problem_responses())
policy_router = APIRouter(prefix="/v1/policy", tags=["policy"], responses=problem_responses())

NO_CASE = {404: "no such case"}
# A promise or hold on a resolved case has nothing left to pause.
PAUSE_PROBLEMS = NO_CASE | {409: "the case is resolved; nothing to pause"}
PLAN_PROBLEMS = NO_CASE | {409: "the case is resolved or already has an active repayment plan"}


def _uow(request: Request):
    return request.app.state.runtime.uow()


@cases_router.get("")
async def list_cases(request: Request, loan_id: str = Query(min_length=1, max_length=128, pattern=NO_NUL), _=Depends(require_scope("cases:read"))):
    async with _uow(request) as uow:
        cases = await CaseRepository(uow.session).for_loan(loan_id)
        next_due = await TimerRepository(uow.session).next_due([c.id for c in cases]) if cases else {}
        # Views are built inside the unit of work: leaving it expires what was loaded.
        return {"items": [case_summary(c, next_due.get(c.id)) for c in cases]}


@cases_router.get("/{case_id}", responses=problem_responses(NO_CASE))
async def get_case(request: Request, case_id: uuid.UUID, _=Depends(require_scope("cases:read"))):
    async with _uow(request) as uow:
        case = await CaseRepository(uow.session).get(case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        pending = await TimerRepository(uow.session).pending_for_case(case.id)
        history = await CaseRepository(uow.session).history(case.id)
        fired = await TimerRepository(uow.session).fired_for_case(case.id)
        case_plans = await PlanRepository(uow.session).for_case(case.id)
        view = case_summary(case, pending[0].due_at if pending else None)
        return view | {
            "plans": [plan_view(p) for p in case_plans],
            "next_actions": [pending_view(t) for t in pending[:20]],
            "history": merged_history(history, fired),
        }


@cases_router.post("/{case_id}/promises", status_code=201, responses=problem_responses(PAUSE_PROBLEMS, body=True))
async def promise_to_pay(request: Request, case_id: uuid.UUID, body: PromiseIn, who: Principal = Depends(require_scope("cases:write"))):
    async with _uow(request) as uow:
        promise = await pauses.place_promise(uow, case_id, body.amount, body.date, who.token_id)
        await uow.commit()
        return {"promise_id": str(promise.id), "case_id": str(case_id), "amount": str(promise.amount), "date": promise.promised_date, "status": promise.status}


@cases_router.post("/{case_id}/plans", status_code=201, responses=problem_responses(PLAN_PROBLEMS, body=True))
async def agree_plan(request: Request, case_id: uuid.UUID, body: PlanIn, who: Principal = Depends(require_scope("cases:write"))):
    terms = [(i.due_date, i.amount) for i in body.installments]
    async with _uow(request) as uow:
        plan = await plans.agree_plan(uow, case_id, body.currency, body.total, terms, who.token_id)
        await uow.commit()
        return plan_view(plan)


@cases_router.post("/{case_id}/holds", status_code=201, responses=problem_responses(PAUSE_PROBLEMS, body=True))
async def place_hold(request: Request, case_id: uuid.UUID, body: HoldIn, who: Principal = Depends(require_scope("cases:write"))):
    async with _uow(request) as uow:
        hold = await pauses.place_hold(uow, case_id, body.reason, body.expires_at, body.note, who.token_id)
        await uow.commit()
        return {"hold_id": str(hold.id), "case_id": str(case_id), "reason": hold.reason, "expires_at": hold.expires_at}


@policy_router.get("")
async def get_policy(request: Request, _=Depends(require_scope("cases:read"))):
    async with _uow(request) as uow:
        policies = PolicyRepository(uow.session)
        active = await policies.active()
        activated_at = await policies.activated_at(active.version)
        await uow.commit()  # the default policy is stored on first use
    return {"version": active.version, "activated_at": activated_at, **active.policy.model_dump(mode="json")}


@policy_router.put(
    "", responses=problem_responses({409: "`version` is not the active policy; read it again"}, body=True)
)
async def put_policy(request: Request, body: PolicyIn, who: Principal = Depends(require_scope("policy:write"))):
    document = Policy.model_validate(body.model_dump(exclude={"version", "activated_at"}))
    async with _uow(request) as uow:
        policies = PolicyRepository(uow.session)
        active = await policies.active()
        if body.version is not None and body.version != active.version:
            raise Conflict(f"version {body.version} is not the active policy (version {active.version}); read it again")
        version = await policies.add(document, at=uow.clock.now(), by=who.token_id)
        await uow.commit()
    return {"version": version, "activated_at": uow.clock.now(), **document.model_dump(mode="json")}


@policy_router.post("/simulate", responses=problem_responses(body=True))
async def simulate_policy(request: Request, body: SimulateIn, _=Depends(require_scope("cases:read"))):
    async with _uow(request) as uow:
        active = await PolicyRepository(uow.session).active()
        start = body.start or uow.clock.now()
    policy, version = (body.policy, None) if body.policy else (active.policy, active.version)
    loan = body.loan
    scenario = Scenario(
        loan.days_past_due, loan.overdue_amount, loan.timezone, loan.broken_promises, loan.loan_id, loan.lender, loan.product
    )
    timeline, resolved = simulate_resolved(policy, scenario, start, body.days)
    return {
        "policy_version": version, "start": start, "days": body.days, "segment": resolved.segment, "arm": resolved.arm,
        "timeline": [timeline_view(e) for e in timeline],
    }
