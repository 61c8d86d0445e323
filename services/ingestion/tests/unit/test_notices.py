from datetime import date
from decimal import Decimal

from dunning_ingestion.domain.figures import Figures
from dunning_ingestion.domain.notices import BecameOverdue, OverdueWasCleared, notice_for, reported_after


def figures(overdue: str, status: str | None = None) -> Figures:
    amount = Decimal(overdue)
    return Figures(
        status=status or ("overdue" if amount > 0 else "current"),
        as_of=date(2026, 1, 15),
        days_past_due=5 if amount > 0 else 0,
        overdue_since=date(2026, 1, 10) if amount > 0 else None,
        overdue_amount=amount,
        penalty_accrued=Decimal("0"),
        penalty_outstanding=Decimal("0"),
        outstanding_balance=amount,
        credit_balance=Decimal("0"),
        next_review_on=None,
    )


def test_a_loan_that_becomes_overdue_is_announced():
    assert isinstance(notice_for(Decimal("0"), figures("100")), BecameOverdue)


def test_a_changed_overdue_amount_is_announced_and_an_unchanged_one_is_not():
    assert isinstance(notice_for(Decimal("100"), figures("60")), BecameOverdue)
    assert notice_for(Decimal("100"), figures("100.00")) is None


def test_an_overdue_amount_reaching_zero_is_cleared_as_paid_or_restructured():
    assert notice_for(Decimal("100"), figures("0")) == OverdueWasCleared("paid")
    assert notice_for(Decimal("100"), figures("0"), restructured=True) == OverdueWasCleared("restructured")


def test_closing_an_overdue_loan_clears_it_and_closing_a_current_one_says_nothing():
    assert notice_for(Decimal("100"), figures("100", "closed")) == OverdueWasCleared("closed")
    assert notice_for(Decimal("0"), figures("0", "closed")) is None


def test_the_bus_knows_the_announced_amount_afterwards():
    assert reported_after(BecameOverdue(figures("60")), Decimal("100")) == Decimal("60")
    assert reported_after(OverdueWasCleared("paid"), Decimal("100")) == 0
    assert reported_after(None, Decimal("100")) == Decimal("100")
