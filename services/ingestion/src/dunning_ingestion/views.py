"""The ledger view of GET /v1/loans/{loan_id}: the figures as of now, and per installment what is due,
paid, overdue and accrued, so that every figure can be checked by hand."""

from datetime import date, datetime
from decimal import Decimal

from dunning_ingestion.domain.figures import Figures, figures_of
from dunning_ingestion.domain.ledger import InstallmentLedger, Ledger, accrue
from dunning_ingestion.domain.loan import Loan
from dunning_ingestion.domain.money import ZERO, round_money


def loan_view(loan: Loan, ledger: Ledger, now: datetime) -> dict:
    today, digits = loan.day_of(now), loan.terms.minor_digits
    # The stored ledger is as of the last event or sweep; time since then only adds penalty.
    accrue(ledger, loan.terms, through=min(today, loan.closed_on) if loan.closed_on else today)
    figures = figures_of(ledger, loan.terms, today=today, closed=loan.closed_at is not None)
    return {
        "loan_id": loan.loan_id,
        "lender": loan.lender,
        "product": loan.product,
        "borrower_id": loan.borrower_id,
        "currency": loan.currency,
        "principal": _money(loan.principal, digits),
        "grace_days": loan.terms.grace_days,
        "penalty_rate_daily": format(loan.terms.penalty_rate_daily, "f"),
        "waterfall": list(loan.terms.waterfall),
        "closed_at": loan.closed_at.isoformat() if loan.closed_at else None,
        "close_reason": loan.close_reason,
        **_figures(figures, digits),
        "installments": [_installment(i, today, loan.terms.grace_days, digits) for i in ledger.installments],
    }


def _figures(figures: Figures, digits: int) -> dict:
    return {
        "status": figures.status,
        "as_of": figures.as_of.isoformat(),
        "days_past_due": figures.days_past_due,
        "overdue_since": figures.overdue_since.isoformat() if figures.overdue_since else None,
        "overdue_amount": _money(figures.overdue_amount, digits),
        "penalty_accrued": _money(figures.penalty_accrued, digits),
        "penalty_outstanding": _money(figures.penalty_outstanding, digits),
        "outstanding_balance": _money(figures.outstanding_balance, digits),
        "credit_balance": _money(figures.credit_balance, digits),
    }


def _installment(i: InstallmentLedger, today: date, grace_days: int, digits: int) -> dict:
    overdue = i.is_overdue(today, grace_days)

    def money(amount: Decimal) -> str:
        return _money(amount, digits)

    return {
        "seq": i.seq,
        "due_date": i.due_date.isoformat(),
        "status": _status(i, today, overdue),
        "due": {"principal": money(i.principal_due), "interest": money(i.interest_due)},
        "paid": {"principal": money(i.principal_paid), "interest": money(i.interest_paid), "penalty": money(i.penalty_paid)},
        "penalty_accrued": money(i.penalty_accrued),
        "outstanding": money(i.outstanding),
        "overdue": money(i.outstanding if overdue else ZERO),
        "days_past_due": (today - i.due_date).days if overdue else 0,
    }


def _status(i: InstallmentLedger, today: date, overdue: bool) -> str:
    if i.outstanding <= 0:
        return "paid"
    if overdue:
        return "overdue"
    return "in_grace" if i.due_date < today else "upcoming"


def _money(amount: Decimal, digits: int) -> str:
    # In the currency's minor units ("50.00" for CNY, "50" for JPY), however the amount was written or
    # stored: a client compares and displays these strings as they are. Every amount is already a whole
    # number of minor units, so this only pads.
    return format(round_money(amount, digits), "f")
