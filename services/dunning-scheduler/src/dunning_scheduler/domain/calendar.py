"""Days past due on the borrower's own calendar, and the contact window of each day."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dunning_scheduler.domain.policy import ContactWindow


@dataclass(frozen=True)
class Calendar:
    """Day N is `day_zero` + N days in the borrower's time zone (day 1 is the first day past due)."""

    day_zero: date
    timezone: ZoneInfo
    window: ContactWindow

    @classmethod
    def of(cls, day_zero: date, timezone: str, window: ContactWindow) -> "Calendar":
        return cls(day_zero, ZoneInfo(timezone), window)

    @classmethod
    def from_observation(cls, as_of: datetime, days_past_due: int, timezone: str, window: ContactWindow) -> "Calendar":
        """Anchored on what the ledger said, so whatever grace rule it counts with, we count the same."""
        zone = ZoneInfo(timezone)
        return cls(as_of.astimezone(zone).date() - timedelta(days=days_past_due), zone, window)

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.timezone).date()

    def days_past_due(self, at: datetime) -> int:
        return (self.local_date(at) - self.day_zero).days

    def opening(self, day: int) -> datetime:
        """When the contact window opens on day `day`."""
        return datetime.combine(self.day_zero + timedelta(days=day), self.window.start, tzinfo=self.timezone)

    def not_before(self, at: datetime) -> datetime:
        """`at` itself when it falls in the contact window, else the next time the window opens."""
        local = at.astimezone(self.timezone)
        if local.time() < self.window.start:
            return datetime.combine(local.date(), self.window.start, tzinfo=self.timezone)
        if local.time() >= self.window.end:
            return datetime.combine(local.date() + timedelta(days=1), self.window.start, tzinfo=self.timezone)
        return at
