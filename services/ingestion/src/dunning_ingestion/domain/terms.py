"""A loan's terms as the ledger needs them: the schedule, its currency, the grace and the penalty rate."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache

# Within one installment a payment settles these parts in this order (lenders may configure another).
DEFAULT_WATERFALL: tuple[str, ...] = ("penalty", "interest", "principal")
WATERFALL_PARTS = frozenset(DEFAULT_WATERFALL)
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class ScheduledInstallment:
    seq: int
    due_date: date
    principal_due: Decimal
    interest_due: Decimal


@dataclass(frozen=True)
class Terms:
    currency: str
    minor_digits: int
    grace_days: int
    penalty_rate_daily: Decimal  # already capped: the rate the ledger charges
    installments: tuple[ScheduledInstallment, ...]
    waterfall: tuple[str, ...] = DEFAULT_WATERFALL

    def by_age(self) -> list[ScheduledInstallment]:
        """Oldest first: the order in which payments settle installments."""
        return sorted(self.installments, key=lambda i: (i.due_date, i.seq))


def capped_daily_rate(rate: Decimal, cap_annual: Decimal) -> Decimal:
    """The daily penalty rate actually charged: the contract's rate, but never above cap_annual / 365.

    Rounded down to ten places so that the charge never exceeds the cap, and so that the stored rate is
    the exact number the set-based sweep multiplies by."""
    return min(rate, _daily_ceiling(cap_annual))


@lru_cache(maxsize=64)
def _daily_ceiling(cap_annual: Decimal) -> Decimal:
    # A handful of caps per deployment, and every booking asks: computed once per cap.
    return (cap_annual / DAYS_PER_YEAR).quantize(Decimal("1e-10"), rounding=ROUND_DOWN)
