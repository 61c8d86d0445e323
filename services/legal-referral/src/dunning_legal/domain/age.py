"""The age of a referral, as a legal team counts it: whole days since it was opened. A referral opened
3 days and 5 hours ago is 3 days old, from the moment it turns 3 days old until it turns 4."""

from datetime import datetime, timedelta


def opened_by(now: datetime, min_age_days: int) -> datetime:
    """At least `min_age_days` old: opened at or before this moment."""
    return now - timedelta(days=min_age_days)


def opened_since(now: datetime, max_age_days: int) -> datetime:
    """At most `max_age_days` old: opened strictly after this moment (a day later it is one day older)."""
    return now - timedelta(days=max_age_days + 1)

