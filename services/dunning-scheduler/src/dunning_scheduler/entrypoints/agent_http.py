"""Agent work over HTTP: the queue, claiming from it, and reporting outcomes."""

import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request

from dunning_platform.auth import Principal, require_scope
from dunning_platform.problems import problem_responses
from dunning_scheduler import agent_work
from dunning_scheduler.entrypoints.schemas import ClaimIn, CompleteIn, task_view

agent_router = APIRouter(prefix="/v1/agent-tasks", tags=["agent work"], responses=problem_responses())


@agent_router.get("")
async def queue(
    request: Request,
    kind: Literal["agent_call", "field_visit"] | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    who: Principal = Depends(require_scope("cases:read")),
):
    """Queued tasks, highest risk first, then the larger overdue amount (a lender's token: its own only)."""
    """Each task says whether it `waiting` and why: the borrower's contact window or today's call caps."""
    runtime = request.app.state.runtime
    async with runtime.uow() as uow:
        tasks = await agent_work.queue(uow, kind, limit, who.lender)
        waits = await agent_work.waits(uow, tasks, runtime.settings) if tasks else {}
        return {"items": [task_view(t, waits.get(t.id)) for t in tasks]}


@agent_router.post("/claim", responses=problem_responses(body=True))
async def claim(request: Request, body: ClaimIn, who: Principal = Depends(require_scope("cases:write"))):
    """Tasks whose borrower may not be contacted now (night in the borrower's time zone, today's calls at
    the caps) are passed over: fewer than `limit`, or none, can come back."""
    runtime = request.app.state.runtime
    async with runtime.uow() as uow:
        tasks = await agent_work.claim(uow, body.agent_id, list(body.kinds), body.limit, who.lender, runtime.settings)
        await uow.commit()
        return {"items": [task_view(t) for t in tasks]}


@agent_router.post(
    "/{task_id}/complete",
    responses=problem_responses(
        {404: "no such agent task, or one of another lender's case", 409: "the task is not claimed, or another agent holds it"}, body=True
    ),
)
async def complete(request: Request, task_id: uuid.UUID, body: CompleteIn, who: Principal = Depends(require_scope("cases:write"))):
    promise = body.promise
    done = agent_work.Completion(
        body.outcome, body.note, promise.amount if promise else None, promise.date if promise else None, body.hold_days
    )
    async with request.app.state.runtime.uow() as uow:
        task = await agent_work.complete(uow, task_id, body.agent_id, done, who.lender)
        await uow.commit()
        return task_view(task)
