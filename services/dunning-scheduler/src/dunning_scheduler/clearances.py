"""OverdueCleared in runs: each loan's open case resolves, what is pending on it is cancelled or settled,
and the pre-due reminders of instalments still ahead are planned again. A wave (each loan at most once)
costs a few statements however many loans it clears; a clearance overtaking its LoanOverdue is remembered."""

from dunning_contracts import CloudEvent
from dunning_contracts.events import OverdueCleared
from dunning_messaging import UnitOfWork
from dunning_scheduler import casework, pauses
from dunning_scheduler.adapters.orm import Case, LoanProfile
from dunning_scheduler.adapters.repository import (
    AgentTaskRepository, CaseRepository, LoanRepository, PolicyRepository, TimerRepository,
)
from dunning_scheduler.casework import Context, Writes, borrower_of, record
from dunning_scheduler.waves import waves


async def on_overdue_cleared_batch(uow: UnitOfWork, events: list[tuple[CloudEvent, OverdueCleared]]) -> None:
    for wave in waves((data for _, data in events), lambda data: data.loan_id):
        await cleared_wave(uow, wave)


async def cleared_wave(uow: UnitOfWork, notices: list[OverdueCleared]) -> None:
    cases = CaseRepository(uow.session)
    open_cases = await cases.unresolved_for_loans([n.loan_id for n in notices])
    # Overtook its LoanOverdue: remember it, so that one cannot open a case for a paid loan.
    early = [n for n in notices if n.loan_id not in open_cases]
    await cases.remember_early_clearances([{"loan_id": n.loan_id, "cleared_at": n.cleared_at, "reason": n.reason} for n in early])
    resolving = [(open_cases[n.loan_id], n) for n in notices if n.loan_id in open_cases]
    if resolving:
        await resolve_cases(uow, resolving)


async def resolve_cases(uow: UnitOfWork, resolving: list[tuple[Case, OverdueCleared]]) -> None:
    session, now, writes = uow.session, uow.clock.now(), Writes()
    case_ids = [case.id for case, _ in resolving]
    cancelled = await TimerRepository(session).cancel_for_cases({case.id: f"resolved: {data.reason}" for case, data in resolving})
    await AgentTaskRepository(session).cancel_open_of_cases(case_ids, now)
    paused_by = await pauses.pausing(session, case_ids)
    profiles = await LoanRepository(session).get_many([case.loan_id for case, _ in resolving])
    policy = await PolicyRepository(session).active()
    await TimerRepository(session).cancel_pre_due_of_loans(list(profiles), "replanned")
    for case, data in resolving:
        ctx = Context(uow, policy, borrower_of(profiles.get(case.loan_id)), now, writes)
        resolve(case, data, ctx, paused_by, cancelled[case.id])
        plan_pre_due(profiles.get(case.loan_id), ctx)
    await writes.write(uow)


def resolve(case: Case, data: OverdueCleared, ctx: Context, paused_by: pauses.Pausing, cancelled: int) -> None:
    case.status, case.resolved_at, case.resolution, case.updated_at = "resolved", data.cleared_at, data.reason, ctx.now
    case.paused_until = case.pause_reason = None
    pauses.close_on_resolution(case, ctx, paused_by)
    record(ctx, case, "resolved", f"overdue cleared ({data.reason}); {cancelled} pending timers cancelled")


def plan_pre_due(profile: LoanProfile | None, ctx: Context) -> None:
    """Reminders before each instalment still ahead (the caller cancelled those planned earlier)."""
    if profile is not None:
        ctx.writes.timers += casework.pre_due_timers(ctx, profile.loan_id, profile.borrower_id, profile.due_dates)

