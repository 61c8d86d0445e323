"""Domain notices out as bus events: LoanOverdue and OverdueCleared on dunning.loan-overdue.v1."""

from datetime import datetime

from dunning_contracts.events import LoanOverdue, OverdueCleared
from dunning_ingestion.domain.loan import Loan
from dunning_ingestion.domain.notices import BecameOverdue, Notice, OverdueWasCleared
from dunning_messaging import UnitOfWork


def announce(uow: UnitOfWork, loan: Loan, notice: Notice | None, now: datetime) -> None:
    if isinstance(notice, BecameOverdue):
        uow.emit("LoanOverdue", loan_overdue(loan, notice, now))
    elif isinstance(notice, OverdueWasCleared):
        uow.emit("OverdueCleared", OverdueCleared(loan_id=loan.loan_id, reason=notice.reason, cleared_at=now))


def loan_overdue(loan: Loan, notice: BecameOverdue, now: datetime) -> LoanOverdue:
    figures = notice.figures
    return LoanOverdue(
        loan_id=loan.loan_id,
        borrower_id=loan.borrower_id,
        lender=loan.lender,
        product=loan.product,
        currency=loan.currency,
        overdue_since=figures.overdue_since,
        days_past_due=figures.days_past_due,
        overdue_amount=figures.overdue_amount,
        penalty_accrued=figures.penalty_accrued,
        outstanding_balance=figures.outstanding_balance,
        as_of=now,
    )
