"""When a promise to pay or a hold lets the case wait, and whether a promise was kept."""

from datetime import date, datetime
from decimal import Decimal

from dunning_scheduler.domain.calendar import Calendar

HOLD_REASONS = ("dispute", "complaint", "bereavement", "hardship")


def promise_ends(promised: date, grace_days: int, calendar: Calendar) -> datetime:
    """Reminders wait until the contact window opens on the day after the promised date plus grace."""
    day = (promised - calendar.day_zero).days + grace_days + 1
    return calendar.opening(day)


def paid_towards(paid: Decimal, overdue_then: Decimal, overdue_now: Decimal) -> Decimal:
    """What counts as paid: the payments received, or the fall of the overdue amount when that is more.
    Payments are what matter: penalty accrual and instalments falling due push the overdue amount up, so
    its fall understates them. The fall still speaks for payments made before the scheduler stored them."""
    return max(paid, overdue_then - overdue_now)


def promise_kept(promised: Decimal, paid: Decimal, overdue_then: Decimal, overdue_now: Decimal) -> bool:
    """Kept once what was paid since the promise, by its date plus grace, reaches the promised amount."""
    return paid_towards(paid, overdue_then, overdue_now) >= promised
