"""The figures every later stage trusts: status, days past due, overdue amount, penalty, balance.

An installment is overdue once its due date is more than `grace_days` behind and something of it is
unpaid; days past due count from the due date of the oldest such installment. The overdue amount is
what the borrower must pay to be current again: the unpaid principal, interest and penalty of the
overdue installments."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dunning_ingestion.domain.ledger import Ledger
from dunning_ingestion.domain.money import ZERO
from dunning_ingestion.domain.terms import Terms


@dataclass(frozen=True)
class Figures:
    status: str  # current, overdue, closed
    as_of: date
    days_past_due: int
    overdue_since: date | None
    overdue_amount: Decimal
    penalty_accrued: Decimal
    penalty_outstanding: Decimal
    outstanding_balance: Decimal
    credit_balance: Decimal
    next_review_on: date | None  # when time alone will next change these figures


def figures_of(ledger: Ledger, terms: Terms, *, today: date, closed: bool = False) -> Figures:
    # One pass over the installments: this runs for every loan an event touches.
    grace = terms.grace_days
    overdue_since = None
    overdue_amount = outstanding_balance = penalty_accrued = penalty_outstanding = ZERO
    for installment in ledger.installments:
        left = installment.outstanding
        outstanding_balance += left
        penalty_accrued += installment.penalty_accrued
        penalty_outstanding += installment.penalty_outstanding
        if left > 0 and installment.past_grace(today, grace):
            overdue_amount += left
            if overdue_since is None or installment.due_date < overdue_since:
                overdue_since = installment.due_date
    return Figures(
        status="closed" if closed else ("overdue" if overdue_amount > 0 else "current"),
        as_of=today,
        days_past_due=(today - overdue_since).days if overdue_since else 0,
        overdue_since=overdue_since,
        overdue_amount=overdue_amount,
        penalty_accrued=penalty_accrued,
        penalty_outstanding=penalty_outstanding,
        outstanding_balance=outstanding_balance,
        credit_balance=ledger.credit,
        next_review_on=None if closed else next_review_on(ledger, terms, today),
    )


def next_review_on(ledger: Ledger, terms: Terms, today: date) -> date | None:
    """Tomorrow while unpaid principal accrues penalty; else the day the next unpaid installment's grace
    ends; None when nothing unpaid is left. The sweep visits only loans whose date has come."""
    candidates = []
    for installment in ledger.installments:
        if installment.outstanding <= 0:
            continue
        if not installment.past_grace(today, terms.grace_days):
            candidates.append(installment.due_date + timedelta(days=terms.grace_days + 1))
        elif installment.principal_outstanding > 0:
            candidates.append(today + timedelta(days=1))
    return min(candidates, default=None)
