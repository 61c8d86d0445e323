"""A loan's terms as the ledger needs them: the schedule, its currency, the grace and the penalty rate."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from functools import lru_cache
from operator import attrgetter

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
        return sorted(self.installments, key=_BY_AGE)


_BY_AGE = attrgetter("due_date", "seq")  # a key in C: every booking and every settle sorts by it


def capped_daily_rate(rate: Decimal, cap_annual: Decimal, contract_rate_annual: Decimal = Decimal(0)) -> Decimal:
    """The daily penalty rate actually charged: the contract's rate, but never so high that the contract's
    own interest and the penalty together exceed cap_annual (the ceiling courts apply to interest,
    penalty and fees combined). A loan whose interest alone reaches the cap is charged no penalty.

    Rounded down to ten places so that the charge never exceeds the cap, and so that the stored rate is
    the exact number the set-based sweep multiplies by."""
    return min(rate, _daily_ceiling(max(cap_annual - contract_rate_annual, Decimal(0))))


def contract_rate_annual(installments: tuple[ScheduledInstallment, ...], booked_on: date) -> Decimal:
    """The simple annual rate the schedule's interest implies on the principal outstanding in each period
    (from the booking, or the previous due date, to the installment's due date), rounded up so that
    the penalty left under the cap is never overstated."""
    exposure = Decimal(0)  # principal x days it was lent
    start, outstanding = booked_on, sum([i.principal_due for i in installments], Decimal(0))
    for installment in sorted(installments, key=_BY_AGE):
        due_date = installment.due_date
        # At least a day: an installment due at once still lent its principal for that day.
        exposure += outstanding * max((due_date - start).days, 1)
        start, outstanding = max(start, due_date), outstanding - installment.principal_due
    interest = sum([i.interest_due for i in installments], Decimal(0))
    if exposure <= 0:
        return Decimal(0)  # no principal: the penalty, charged on principal, is nothing anyway
    return (interest * DAYS_PER_YEAR / exposure).quantize(Decimal("1e-8"), rounding=ROUND_UP)


@lru_cache(maxsize=1024)
def _daily_ceiling(headroom_annual: Decimal) -> Decimal:
    # Schedules repeat across a lender's products: most bookings find their ceiling here.
    return (headroom_annual / DAYS_PER_YEAR).quantize(Decimal("1e-10"), rounding=ROUND_DOWN)
