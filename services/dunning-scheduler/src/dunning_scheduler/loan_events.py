"""Lending events about a loan: a loan closed early needs no more pre-due reminders, a failed
auto-debit gets one SMS so the borrower can pay before the due date, and every payment is stored, since
promises and plans are judged by what was paid."""

from dunning_contracts import CloudEvent
from dunning_contracts.events import LoanClosed, RepaymentFailed, RepaymentReceived
from dunning_messaging import UnitOfWork
from dunning_scheduler import casework, pauses
from dunning_scheduler.adapters.payments import PaymentRepository
from dunning_scheduler.adapters.plans import LoanHistory, LoanNotices
from dunning_scheduler.adapters.repository import LoanRepository
from dunning_scheduler.casework import Context, context_for, record
from dunning_scheduler.domain.calendar import Calendar
from dunning_scheduler.domain.loan_notices import AUTO_DEBIT_FAILED, auto_debit_failed_notice


async def on_loan_closed(uow: UnitOfWork, event: CloudEvent, data: LoanClosed) -> None:
    ctx = await context_for(uow, data.loan_id)
    cancelled = await ctx.timers.cancel_pre_due(data.loan_id, f"loan closed ({data.reason})")
    profile = await LoanRepository(uow.session).get(data.loan_id)
    if profile is not None:
        # A closed loan has nothing left to fall due: a later clearance must not plan pre-due reminders again.
        profile.due_dates = []
    reason = f"loan closed ({data.reason}) at {data.closed_at.isoformat()}; {cancelled} pending pre-due reminders cancelled"
    LoanHistory(uow.session).record(data.loan_id, ctx.now, "pre_due_cancelled", reason, {"cancelled": cancelled})
    case = await ctx.cases.unresolved_for_loan(data.loan_id)
    if case is not None:
        record(ctx, case, "loan_closed", f"loan closed ({data.reason}); the case resolves when the clearance is reported")


async def on_repayment_failed(uow: UnitOfWork, event: CloudEvent, data: RepaymentFailed) -> None:
    ctx = await context_for(uow, data.loan_id)
    skipped = await reason_to_skip(data, ctx)
    if skipped:
        LoanHistory(uow.session).record(data.loan_id, ctx.now, "auto_debit_failed", f"{data.reason}; no SMS: {skipped}", {"seq": data.seq})
        return
    profile = await LoanRepository(uow.session).get(data.loan_id)
    await ctx.timers.add(notice_rows(data, profile.borrower_id, ctx))
    reason = f"{data.reason}; one SMS ({AUTO_DEBIT_FAILED}) planned at once"
    LoanHistory(uow.session).record(data.loan_id, ctx.now, "auto_debit_failed", reason, {"seq": data.seq})


async def reason_to_skip(data: RepaymentFailed, ctx: Context) -> str | None:
    if await ctx.cases.unresolved_for_loan(data.loan_id) is not None:
        return "the loan has an open case, whose reminders speak for it"
    if await LoanNotices(ctx.uow.session).already_planned(data.loan_id, AUTO_DEBIT_FAILED, data.seq, data.failed_at):
        return f"a notice about instalment {data.seq} is already planned"
    if await LoanRepository(ctx.uow.session).get(data.loan_id) is None:
        # LoanBooked comes first on the same partition; without it there is no one to address.
        return "the loan's booking is not known"
    return None


def notice_rows(data: RepaymentFailed, borrower_id: str, ctx: Context) -> list[dict]:
    policy = ctx.policy.policy
    calendar = Calendar.of(ctx.now.date(), ctx.borrower.timezone, casework.contact_window(ctx))
    notice = auto_debit_failed_notice(data.seq, ctx.now, calendar, policy.reminder_ttl_hours)
    rows = casework.timer_rows([notice], None, ctx, loan_id=data.loan_id, borrower_id=borrower_id)
    for row in rows:
        # What makes a redelivered or repeated report of the same failure find this notice.
        row["payload"] |= {"installment_seq": data.seq, "failed_at": data.failed_at.isoformat()}
    return rows


async def on_repayment_received_batch(uow: UnitOfWork, events: list[tuple[CloudEvent, RepaymentReceived]]) -> None:
    """Most payments are of loans without a case: a run costs one insert and one query for them. A
    payment that may keep a promise settles it now, so PromiseKept does not wait for the next check."""
    payments = PaymentRepository(uow.session)
    loans = await payments.record_many(payment_rows([data for _, data in events], uow))
    for loan_id in await payments.loans_with_pending_promises(loans) if loans else []:
        await settle_promises_of(uow, loan_id)


def payment_rows(payments: list[RepaymentReceived], uow: UnitOfWork) -> list[dict]:
    # One row per payment_id: a run may carry the same payment twice.
    unique = {p.payment_id: p for p in payments}.values()
    received_at = uow.clock.now()
    return [
        {"payment_id": p.payment_id, "loan_id": p.loan_id, "amount": p.amount, "currency": p.currency, "paid_at": p.paid_at, "received_at": received_at}
        for p in unique
    ]


async def settle_promises_of(uow: UnitOfWork, loan_id: str) -> None:
    ctx = await context_for(uow, loan_id)
    case = await ctx.cases.unresolved_for_loan(loan_id)
    if case is not None:
        await pauses.settle_paid_promises(case, ctx)
