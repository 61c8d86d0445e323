"""When a promise to pay or a hold lets the case wait, and whether a promise was kept."""

from datetime import date, datetime
from decimal import Decimal

from dunning_scheduler.domain.calendar import Calendar

HOLD_REASONS = ("dispute", "complaint", "bereavement", "hardship")


def promise_ends(promised: date, grace_days: int, calendar: Calendar) -> datetime:
    """Reminders wait until the contact window opens on the day after the promised date plus grace."""
    day = (promised - calendar.day_zero).days + grace_days + 1
    return calendar.opening(day)


def promise_kept(promised: Decimal, overdue_then: Decimal, overdue_now: Decimal) -> bool:
    """Kept once the overdue amount has come down by at least the promised amount."""
    return overdue_then - overdue_now >= promised
