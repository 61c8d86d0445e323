"""One function per bus event the scheduler consumes, and the one table that routes them.

LoanOverdue and LoanBooked come in runs (`Batched`): a run is split into waves holding each loan at most
once, in the order of its events; a wave loads what it needs for all its loans in a few statements,
decides for each loan in Python, then writes cases, history and timers by COPY."""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from dunning_contracts import CloudEvent
from dunning_contracts.events import LoanBooked, LoanOverdue
from dunning_messaging import Batched, UnitOfWork
from dunning_scheduler import casework, pauses
from dunning_scheduler.clearances import on_overdue_cleared_batch
from dunning_scheduler.loan_events import on_loan_closed, on_repayment_failed, on_repayment_received_batch
from dunning_scheduler.voice_reminders import on_reminders_sent
from dunning_scheduler.adapters.orm import Case, LoanProfile, NewCase, Promise
from dunning_scheduler.adapters.repository import CaseRepository, LoanRepository, PolicyRepository, PromiseRepository, TimerRepository
from dunning_scheduler.casework import Context, Writes, borrower_of, record
from dunning_scheduler.domain.borrower import BorrowerContext
from dunning_scheduler.domain.calendar import Calendar
from dunning_scheduler.domain.policy import VersionedPolicy
from dunning_scheduler.waves import waves

log = logging.getLogger(__name__)


@dataclass
class OverdueWave:
    """What deciding on a wave of LoanOverdue needs from the database, loaded for all its loans at once."""

    policy: VersionedPolicy
    profiles: dict[str, LoanProfile]
    open_cases: dict[str, Case]
    past: dict[str, tuple[int, datetime | None]]
    early: dict[str, datetime]
    # Pending promises of the open cases; most have none.
    promises: dict[uuid.UUID, list[Promise]]

    def cleared_since(self, loan_id: str, at: datetime) -> bool:
        """Whether the loan was cleared at or after `at`: by a resolved case, or before any case existed."""
        resolved_at = self.past.get(loan_id, (0, None))[1]
        early = self.early.get(loan_id)
        return (resolved_at is not None and resolved_at >= at) or (early is not None and early >= at)


async def on_loan_overdue_batch(uow: UnitOfWork, events: list[tuple[CloudEvent, LoanOverdue]]) -> None:
    for wave in waves((data for _, data in events), lambda data: data.loan_id):
        await overdue_wave(uow, wave)


async def overdue_wave(uow: UnitOfWork, notices: list[LoanOverdue]) -> None:
    loaded, writes = await load_overdue_wave(uow, [n.loan_id for n in notices])
    now = uow.clock.now()
    for notice in notices:
        ctx = Context(uow, loaded.policy, borrower_of(loaded.profiles.get(notice.loan_id)), now, writes)
        await on_notice(notice, loaded, ctx)
    await TimerRepository(uow.session).cancel_pre_due_of_loans(
        [case.loan_id for case in writes.cases], "the loan is overdue: the case's reminders take over")
    await writes.write(uow)


async def load_overdue_wave(uow: UnitOfWork, loan_ids: list[str]) -> tuple[OverdueWave, Writes]:
    session, cases = uow.session, CaseRepository(uow.session)
    open_cases = await cases.unresolved_for_loans(loan_ids)
    case_ids = [case.id for case in open_cases.values()]
    loaded = OverdueWave(
        policy=await PolicyRepository(session).active(),
        profiles=await LoanRepository(session).get_many(loan_ids),
        open_cases=open_cases,
        past=await cases.past_of_loans([loan for loan in loan_ids if loan not in open_cases]),
        early=await cases.early_clearances([loan for loan in loan_ids if loan not in open_cases]),
        promises=await PromiseRepository(session).pending_of_cases(case_ids),
    )
    sent = await TimerRepository(session).reminders_sent_to_cases(case_ids, uow.clock.now() - timedelta(days=7))
    return loaded, Writes(sent=sent)


async def on_notice(data: LoanOverdue, loaded: OverdueWave, ctx: Context) -> None:
    case = loaded.open_cases.get(data.loan_id)
    if case is not None:
        return await update_case(case, data, ctx, loaded.promises.get(case.id, []))
    if loaded.cleared_since(data.loan_id, data.as_of):
        log.info("LoanOverdue older than the loan's last clearance; ignored", extra={"loan_id": data.loan_id})
        return
    await open_case(data, ctx, past_cures=loaded.past.get(data.loan_id, (0, None))[0])


async def open_case(data: LoanOverdue, ctx: Context, *, past_cures: int) -> None:
    """A new case; the caller cancels the loan's pre-due reminders and writes it (ctx.writes)."""
    case = NewCase(
        id=uuid.uuid4(), status="open", broken_promises=0, opened_at=ctx.now, stage="reminder",
        contact_outcomes={}, failed_contacts=0, past_cures=past_cures,
        resolved_at=None, resolution=None, paused_until=None, pause_reason=None,
    )
    observe(case, data, ctx)
    ctx.writes.opened(case)
    record(ctx, case, "opened", f"loan {data.loan_id} is {data.days_past_due} days past due, {data.overdue_amount} {data.currency} overdue")
    casework.refresh_risk(case, ctx)
    # A new case has no stage yet: it enters even `reminder`, so its first action fires now.
    await casework.reconsider(case, ctx, replan=True, sent=[], new=True)


async def update_case(case: Case, data: LoanOverdue, ctx: Context, promises: list[Promise]) -> None:
    if data.as_of <= case.as_of:
        return  # the same observation again, or an older one overtaken by a newer
    before = case.overdue_amount
    observe(case, data, ctx)
    record(ctx, case, "updated", f"{data.days_past_due} days past due, overdue amount {before} -> {data.overdue_amount}")
    await pauses.settle_kept_promises(case, before, ctx, promises)
    casework.refresh_risk(case, ctx)
    if case.status == "open":
        await casework.reconsider(case, ctx, replan=False)


def observe(case: Case, data: LoanOverdue, ctx: Context) -> None:
    calendar = Calendar.from_observation(data.as_of, data.days_past_due, ctx.borrower.timezone, casework.contact_window(ctx))
    case.loan_id, case.borrower_id, case.lender, case.product = data.loan_id, data.borrower_id, data.lender, data.product
    case.currency, case.overdue_since, case.day_zero = data.currency, data.overdue_since, calendar.day_zero
    case.days_past_due, case.overdue_amount, case.penalty_accrued = data.days_past_due, data.overdue_amount, data.penalty_accrued
    case.outstanding_balance, case.as_of, case.updated_at = data.outstanding_balance, data.as_of, ctx.now
    case.policy_version = ctx.policy.version


async def on_loan_booked_batch(uow: UnitOfWork, events: list[tuple[CloudEvent, LoanBooked]]) -> None:
    """Keep where and how the borrower is reached (no name, phone or e-mail) and the due dates."""
    for wave in waves((data for _, data in events), lambda data: data.loan_id):
        await booked_wave(uow, wave)


async def booked_wave(uow: UnitOfWork, bookings: list[LoanBooked]) -> None:
    profiles = [profile_values(data) for data in bookings]
    await LoanRepository(uow.session).save_many(profiles)
    policy = await PolicyRepository(uow.session).active()
    open_cases = await CaseRepository(uow.session).unresolved_for_loans([p["loan_id"] for p in profiles])
    writes, now = Writes(), uow.clock.now()
    fresh = [p for p in profiles if p["loan_id"] not in open_cases]
    await TimerRepository(uow.session).cancel_pre_due_of_loans([p["loan_id"] for p in fresh], "replanned")
    for profile in fresh:
        ctx = Context(uow, policy, borrower_in(profile), now, writes)
        writes.timers += casework.pre_due_timers(ctx, profile["loan_id"], profile["borrower_id"], profile["due_dates"])
    # The overdue notice came first (another topic, no order between them): speak the borrower's language now.
    late = [data for data in bookings if data.loan_id in open_cases]
    changed = await TimerRepository(uow.session).set_locales({open_cases[d.loan_id].id: d.borrower.locale for d in late})
    for data in late:
        case = open_cases[data.loan_id]
        ctx = Context(uow, policy, borrower_in(profile_values(data)), now, writes)
        record(ctx, case, "updated", f"loan booked: locale {data.borrower.locale}, {changed[case.id]} pending timers updated")
    await writes.write(uow)


def borrower_in(profile: dict) -> BorrowerContext:
    return BorrowerContext(profile["locale"], profile["timezone"], profile["region"])


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
    "LoanOverdue": Batched(on_loan_overdue_batch),
    "OverdueCleared": Batched(on_overdue_cleared_batch),
    "LoanBooked": Batched(on_loan_booked_batch),
    "LoanClosed": on_loan_closed,
    "RepaymentFailed": on_repayment_failed,
    "RepaymentReceived": Batched(on_repayment_received_batch),
    "ReminderSent": Batched(on_reminders_sent),
}
