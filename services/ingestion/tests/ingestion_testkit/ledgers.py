"""Small builders of terms and payments for the ledger's unit tests."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

from dunning_ingestion.domain.ledger import Payment
from dunning_ingestion.domain.terms import ScheduledInstallment, Terms

D = Decimal


def terms(*installments: tuple, grace_days: int = 0, rate: str = "0.001", currency: str = "CNY") -> Terms:
    """`terms(("2026-01-01", "100", "10"), ...)`: one (due date, principal, interest) per installment."""
    schedule = tuple(
        ScheduledInstallment(seq, date.fromisoformat(due), D(principal), D(interest))
        for seq, (due, principal, interest) in enumerate(installments, start=1)
    )
    return Terms(currency=currency, minor_digits=2, grace_days=grace_days, penalty_rate_daily=D(rate), installments=schedule)


def paid(payment_id: str, amount: str, on: str) -> Payment:
    day = date.fromisoformat(on)
    return Payment(payment_id, D(amount), datetime.combine(day, time(12), UTC), day)


def day(iso: str) -> date:
    return date.fromisoformat(iso)
