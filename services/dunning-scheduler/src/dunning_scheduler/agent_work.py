"""Agent work for the phone and field stages: claim the top of the queue, complete with an outcome,
and let the outcome feed back into the case (contact history, risk, promises, holds, escalation)."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dunning_contracts.events import ContactAttempted
from dunning_messaging import UnitOfWork
from dunning_platform.errors import Conflict, InvalidInput, NotFound
from dunning_scheduler import casework, pauses
from dunning_scheduler.adapters.agent_queue import AgentQueue, rules_of
from dunning_scheduler.adapters.lender_tasks import LenderTasks
from dunning_scheduler.adapters.orm import AgentTask, Case
from dunning_scheduler.adapters.repository import AgentTaskRepository, CaseRepository, PolicyRepository
from dunning_scheduler.casework import record
from dunning_scheduler.config import Settings, get_settings
from dunning_scheduler.domain.agent_contact import CONNECTED, RuleBook, Wait

OUTCOMES = ("contacted", "no_answer", "wrong_number", "promise", "refused", "hardship", "dispute")
FAILED_CONTACTS = ("no_answer", "wrong_number")
CHANNELS = {"agent_call": "phone", "field_visit": "field"}
# How long a hold an agent's report starts, unless the agent says otherwise.
HOLD_DAYS = {"hardship": 14, "dispute": 30}


@dataclass(frozen=True)
class Completion:
    outcome: str
    note: str | None = None
    promise_amount: Decimal | None = None
    promise_date: date | None = None
    hold_days: int | None = None


def tasks_for(uow: UnitOfWork, lender: str | None) -> AgentTaskRepository | LenderTasks:
    """All tasks, or, for a token bound to a lender, only those of its cases."""
    return LenderTasks(uow.session, lender) if lender else AgentTaskRepository(uow.session)


async def queue(uow: UnitOfWork, kind: str | None, limit: int, lender: str | None) -> list[AgentTask]:
    return await tasks_for(uow, lender).queue(kind, limit)


async def claim(
    uow: UnitOfWork, agent: str, kinds: list[str], limit: int, lender: str | None = None, settings: Settings | None = None
) -> list[AgentTask]:
    """The top of the queue among tasks whose borrower may be contacted now (domain/agent_contact.py)."""
    queue = AgentQueue(uow.session, await rules(uow, settings), lender)
    return await queue.claim(kinds, agent, uow.clock.now(), limit)


async def waits(uow: UnitOfWork, tasks: list[AgentTask], settings: Settings | None = None) -> dict[uuid.UUID, Wait | None]:
    """Why each queued task would not be handed out now."""
    return await AgentQueue(uow.session, await rules(uow, settings)).waits(tasks, uow.clock.now())


async def rules(uow: UnitOfWork, settings: Settings | None) -> RuleBook:
    active = await PolicyRepository(uow.session).active()
    return rules_of(settings or get_settings(), active.policy.contact_window)


async def complete(uow: UnitOfWork, task_id: uuid.UUID, agent: str, done: Completion, lender: str | None = None) -> AgentTask:
    task = await claimed_task(uow, task_id, agent, lender)
    case = await CaseRepository(uow.session).get(task.case_id, lock=True)
    task.status, task.outcome, task.note, task.completed_at = "completed", done.outcome, done.note, uow.clock.now()
    report_contact(uow, task, case)
    if case.status == "resolved":
        return task
    ctx = await casework.context_for(uow, case.loan_id)
    count_outcome(case, done.outcome)
    casework.refresh_risk(case, ctx)
    record(ctx, case, "contact_outcome", f"{task.kind} by {agent}: {done.outcome}", details={"task_id": str(task.id)})
    await follow_up(uow, case, done, ctx, agent)
    return task


async def claimed_task(uow: UnitOfWork, task_id: uuid.UUID, agent: str, lender: str | None) -> AgentTask:
    task = await AgentTaskRepository(uow.session).get(task_id, lock=True)
    if task is None or (lender and not await LenderTasks(uow.session, lender).belongs(task)):
        raise NotFound(f"no agent task {task_id}")
    if task.status != "claimed":
        raise Conflict(f"task {task_id} is {task.status}; only a claimed task can be completed")
    if task.claimed_by != agent:
        raise Conflict(f"task {task_id} is claimed by another agent")
    return task


def report_contact(uow: UnitOfWork, task: AgentTask, case: Case) -> None:
    """Every call or visit goes on the bus (no PII): notification's guard counts it with the reminders."""
    contact = ContactAttempted(
        case_id=str(case.id), loan_id=task.loan_id, occurred_at=task.completed_at, task_id=str(task.id),
        borrower_id=case.borrower_id, channel=CHANNELS[task.kind], connected=task.outcome in CONNECTED, outcome=task.outcome,
        agent_id=task.claimed_by,
    )
    uow.emit("ContactAttempted", contact)


def count_outcome(case: Case, outcome: str) -> None:
    case.contact_outcomes = case.contact_outcomes | {outcome: case.contact_outcomes.get(outcome, 0) + 1}
    case.failed_contacts = case.failed_contacts + 1 if outcome in FAILED_CONTACTS else 0


async def follow_up(uow: UnitOfWork, case: Case, done: Completion, ctx: casework.Context, agent: str) -> None:
    """A promise pauses the case, hardship or a dispute puts it on hold; any other outcome may move it
    up the ladder (an unreachable borrower)."""
    if done.outcome == "promise":
        if done.promise_amount is None or done.promise_date is None:
            raise InvalidInput("promise: an outcome 'promise' needs promise.amount and promise.date", field="promise")
        await pauses.place_promise(uow, case.id, done.promise_amount, done.promise_date, agent)
    elif done.outcome in HOLD_DAYS:
        until = ctx.now + timedelta(days=done.hold_days or HOLD_DAYS[done.outcome])
        await pauses.place_hold(uow, case.id, done.outcome, until, done.note, agent)
    elif case.status == "open":
        await casework.reconsider(case, ctx, replan=False)
