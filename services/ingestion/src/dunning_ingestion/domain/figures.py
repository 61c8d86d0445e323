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
    # One pass over the installments, fields read directly: this runs for every loan an event touches.
    grace = terms.grace_days
    overdue_since = next_grace_end = None
    accrues = False
    overdue_amount = outstanding_balance = penalty_accrued = penalty_outstanding = ZERO
    for i in ledger.installments:
        principal_left = i.principal_due - i.principal_paid
        penalty_left = i.penalty_accrued - i.penalty_paid
        left = principal_left + (i.interest_due - i.interest_paid) + penalty_left
        outstanding_balance += left
        penalty_accrued += i.penalty_accrued
        penalty_outstanding += penalty_left
        if left <= 0:
            continue
        if (today - i.due_date).days > grace:
            overdue_amount += left
            accrues = accrues or principal_left > 0
            if overdue_since is None or i.due_date < overdue_since:
                overdue_since = i.due_date
        elif next_grace_end is None or i.due_date < next_grace_end:
            next_grace_end = i.due_date
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
        next_review_on=None if closed else _review_on(today, grace, accrues, next_grace_end),
    )


def _review_on(today: date, grace: int, accrues: bool, next_due: date | None) -> date | None:
    """Tomorrow while unpaid principal accrues penalty (no grace ends sooner: one not over yet ends
    tomorrow at the earliest); else the day the next unpaid installment's grace ends; None when nothing
    unpaid is left. The sweep visits only loans whose date has come."""
    if accrues:
        return today + _ONE_DAY
    return next_due + timedelta(days=grace + 1) if next_due else None


_ONE_DAY = timedelta(days=1)

