"""Notices about a loan that is not overdue: a bounced auto-debit is told to the borrower at once, within
the contact window, so they can pay before the due date."""

from datetime import datetime, timedelta

from dunning_scheduler.domain.calendar import Calendar
from dunning_scheduler.domain.planner import PlannedAction

AUTO_DEBIT_FAILED = "auto_debit_failed"


def auto_debit_failed_notice(seq: int, now: datetime, calendar: Calendar, ttl_hours: int) -> PlannedAction:
    """Due now; the borrower is reached no earlier than the window opens, as every planned reminder."""
    not_before = calendar.not_before(now)
    reason = f"the auto-debit of instalment {seq} failed"
    return PlannedAction(
        "reminder", now, "reminder", None, reason, "sms", AUTO_DEBIT_FAILED, not_before, not_before + timedelta(hours=ttl_hours)
    )
