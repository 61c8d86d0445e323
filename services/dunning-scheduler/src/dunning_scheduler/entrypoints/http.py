"""The scheduler's HTTP API: cases, promises, holds, repayment plans, a loan's own history, and the
dunning policy. A token bound to a lender sees only that lender's cases and loans; to it, the others do
not exist (404)."""

import uuid

from fastapi import APIRouter, Depends, Path, Query, Request

from dunning_platform.auth import Principal, require_scope
from dunning_platform.errors import Conflict, NotFound
from dunning_platform.problems import problem_responses
from dunning_scheduler import pauses, plans
from dunning_scheduler.simulated_loans import known_loan, with_given
from dunning_scheduler.adapters.holds import HoldLookup, kept_promises
from dunning_scheduler.adapters.orm import Case
from dunning_scheduler.adapters.plans import LoanHistory, PlanRepository
from dunning_scheduler.adapters.repository import CaseRepository, LoanRepository, PolicyRepository, TimerRepository
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
    hold_view,
    loan_history_view,
    merged_history,
    pending_view,
    plan_view,
    situation_view,
    timeline_view,
)

# Every route takes a bearer token and is validated; each route adds what its own code can answer.
cases_router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=problem_responses())
policy_router = APIRouter(prefix="/v1/policy", tags=["policy"], responses=problem_responses())
loans_router = APIRouter(prefix="/v1/loans", tags=["loans"], responses=problem_responses())

NO_CASE = {404: "no such case, or one of another lender"}
# A promise or hold on a resolved case has nothing left to pause.
PAUSE_PROBLEMS = NO_CASE | {409: "the case is resolved; nothing to pause"}
PLAN_PROBLEMS = NO_CASE | {409: "the case is resolved or already has an active repayment plan"}
RELEASE_PROBLEMS = {404: "no such case (or one of another lender), or no such hold on it", 409: "the case is resolved, or the hold was already released"}


def _uow(request: Request):
    return request.app.state.runtime.uow()


async def visible_case(uow, case_id: uuid.UUID, who: Principal, *, lock: bool = False) -> Case:
    """The case, or 404: to a token bound to a lender, another lender's case does not exist. A change
    locks it here, so the command that follows sees the row as it is under the lock."""
    case = await CaseRepository(uow.session).get(case_id, lock=lock)
    if case is None or not sees(who, case.lender):
        raise NotFound(f"no case {case_id}")
    return case


def sees(who: Principal, lender: str | None) -> bool:
    return who.lender is None or who.lender == lender


@cases_router.get("")
async def list_cases(request: Request, loan_id: str = Query(min_length=1, max_length=128, pattern=NO_NUL), who: Principal = Depends(require_scope("cases:read"))):
    async with _uow(request) as uow:
        cases = [c for c in await CaseRepository(uow.session).for_loan(loan_id) if sees(who, c.lender)]
        next_due = await TimerRepository(uow.session).next_due([c.id for c in cases]) if cases else {}
        kept = await kept_promises(uow.session, [c.id for c in cases])
        # Views are built inside the unit of work: leaving it expires what was loaded.
        return {"items": [case_summary(c, next_due.get(c.id), kept.get(c.id, 0)) for c in cases]}


@cases_router.get("/{case_id}", responses=problem_responses(NO_CASE))
async def get_case(request: Request, case_id: uuid.UUID, who: Principal = Depends(require_scope("cases:read"))):
    async with _uow(request) as uow:
        case = await visible_case(uow, case_id, who)
        pending = await TimerRepository(uow.session).pending_for_case(case.id)
        history = await CaseRepository(uow.session).history(case.id)
        fired = await TimerRepository(uow.session).fired_for_case(case.id)
        case_plans = await PlanRepository(uow.session).for_case(case.id)
        holds = await HoldLookup(uow.session).for_case(case.id)
        kept = await kept_promises(uow.session, [case.id])
        view = case_summary(case, pending[0].due_at if pending else None, kept.get(case.id, 0))
        return view | {
            "holds": [hold_view(h) for h in holds],
            "plans": [plan_view(p) for p in case_plans],
            "next_actions": [pending_view(t) for t in pending[:20]],
            "history": merged_history(history, fired),
        }


@cases_router.post("/{case_id}/promises", status_code=201, responses=problem_responses(PAUSE_PROBLEMS, body=True))
async def promise_to_pay(request: Request, case_id: uuid.UUID, body: PromiseIn, who: Principal = Depends(require_scope("cases:write"))):
    async with _uow(request) as uow:
        await visible_case(uow, case_id, who, lock=True)
        promise = await pauses.place_promise(uow, case_id, body.amount, body.date, who.token_id)
        await uow.commit()
        return {"promise_id": str(promise.id), "case_id": str(case_id), "amount": str(promise.amount), "date": promise.promised_date, "status": promise.status}


@cases_router.post("/{case_id}/plans", status_code=201, responses=problem_responses(PLAN_PROBLEMS, body=True))
async def agree_plan(request: Request, case_id: uuid.UUID, body: PlanIn, who: Principal = Depends(require_scope("cases:write"))):
    terms = [(i.due_date, i.amount) for i in body.installments]
    async with _uow(request) as uow:
        await visible_case(uow, case_id, who, lock=True)
        plan = await plans.agree_plan(uow, case_id, body.currency, body.total, terms, who.token_id)
        await uow.commit()
        return plan_view(plan)


@cases_router.post("/{case_id}/holds", status_code=201, responses=problem_responses(PAUSE_PROBLEMS, body=True))
async def place_hold(request: Request, case_id: uuid.UUID, body: HoldIn, who: Principal = Depends(require_scope("cases:write"))):
    async with _uow(request) as uow:
        await visible_case(uow, case_id, who, lock=True)
        hold = await pauses.place_hold(uow, case_id, body.reason, body.expires_at, body.note, who.token_id)
        await uow.commit()
        return {"hold_id": str(hold.id), "case_id": str(case_id), "reason": hold.reason, "expires_at": hold.expires_at}


@cases_router.post("/{case_id}/holds/{hold_id}/release", responses=problem_responses(RELEASE_PROBLEMS))
async def release_hold(request: Request, case_id: uuid.UUID, hold_id: uuid.UUID, who: Principal = Depends(require_scope("cases:write"))):
    """Lift a hold before it expires; the case resumes unless another hold, a promise or a plan pauses it."""
    async with _uow(request) as uow:
        await visible_case(uow, case_id, who, lock=True)
        hold = await pauses.release_hold(uow, case_id, hold_id, who.token_id)
        case = await CaseRepository(uow.session).get(case_id)
        await uow.commit()
        return {"case_id": str(case_id), "case_status": case.status} | hold_view(hold)


@loans_router.get("/{loan_id}/history", responses=problem_responses({404: "the scheduler knows nothing of this loan, or it is another lender's"}))
async def loan_history(
    request: Request, loan_id: str = Path(min_length=1, max_length=128, pattern=NO_NUL), who: Principal = Depends(require_scope("cases:read"))
):
    """Decisions about the loan that no case records: pre-due reminders cancelled, a failed auto-debit."""
    async with _uow(request) as uow:
        lender = await lender_of_loan(uow, loan_id)
        if lender is None or not sees(who, lender):
            raise NotFound(f"no loan {loan_id}")
        return {"items": [loan_history_view(e) for e in await LoanHistory(uow.session).of(loan_id)]}


async def lender_of_loan(uow, loan_id: str) -> str | None:
    """From the booking, or from a case when the overdue notice came without one."""
    profile = await LoanRepository(uow.session).get(loan_id)
    if profile is not None:
        return profile.lender
    cases = await CaseRepository(uow.session).for_loan(loan_id)
    return cases[0].lender if cases else None


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


SIMULATE_PROBLEMS = {
    404: "`loan` names only a loan_id, and the scheduler knows no such loan (or it is another lender's)",
    409: "the loan has no open case and no due date ahead: give days_past_due",
}


@policy_router.post("/simulate", responses=problem_responses(SIMULATE_PROBLEMS, body=True))
async def simulate_policy(request: Request, body: SimulateIn, who: Principal = Depends(require_scope("cases:read"))):
    """A situation by hand, or a real loan by `loan_id` alone (its open case, else its booking)."""
    async with _uow(request) as uow:
        active = await PolicyRepository(uow.session).active()
        start = body.start or uow.clock.now()
        policy, version = (body.policy, None) if body.policy else (active.policy, active.version)
        loan = body.loan
        known = await known_loan(uow, loan.loan_id, who.lender, policy, start) if loan.from_the_loan() else None
        scenario = with_given(known.scenario, loan.given()) if known else hand_written(loan)
        timeline, resolved = simulate_resolved(policy, scenario, start, body.days)
        return {
            "policy_version": version, "start": start, "days": body.days, "segment": resolved.segment, "arm": resolved.arm,
            "situation": situation_view(scenario, known),
            "timeline": [timeline_view(e) for e in timeline],
        }


def hand_written(loan) -> Scenario:
    return Scenario(
        loan.days_past_due, loan.overdue_amount, loan.timezone, loan.broken_promises, loan.loan_id, loan.lender, loan.product
    )
