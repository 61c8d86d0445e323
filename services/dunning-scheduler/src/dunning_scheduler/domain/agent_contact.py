"""When an agent may take a task: calls only inside the contact window of the borrower's own clock and
under the daily call caps, field visits only in daytime hours. Pure: the adapter brings the borrower's
time zone and today's call outcomes, this module says whether the task waits, why, and until when."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# The borrower was reached: a conversation took place, whatever came of it.
CONNECTED = frozenset({"contacted", "promise", "refused", "hardship", "dispute"})


@dataclass(frozen=True)
class Hours:
    start: time
    end: time

    def holds(self, local: time) -> bool:
        return self.start <= local < self.end

    def narrowed(self, other: "Hours") -> "Hours":
        return Hours(max(self.start, other.start), min(self.end, other.end))


@dataclass(frozen=True)
class AgentRules:
    call_hours: Hours
    visit_hours: Hours
    attempts_per_day: int
    connected_calls_per_day: int

    def hours(self, kind: str) -> Hours:
        return self.call_hours if kind == "agent_call" else self.visit_hours


@dataclass(frozen=True)
class Wait:
    reason: str  # contact_window, field_visit_hours, daily_attempt_cap, daily_call_cap
    until: datetime


@dataclass
class CallTally:
    """Agent calls to one borrower on one local day: attempts (claimed or done) and conversations."""

    attempts: int = 0
    connected: int = 0


@dataclass
class Borrower:
    timezone: ZoneInfo
    today: CallTally = field(default_factory=CallTally)


def tally(calls: Iterable[tuple[datetime, str | None]], zone: ZoneInfo, now: datetime) -> CallTally:
    """Count the calls (claimed at, outcome) made on the borrower's local day of `now`."""
    today = now.astimezone(zone).date()
    counted = CallTally()
    for claimed_at, outcome in calls:
        if claimed_at.astimezone(zone).date() == today:
            counted.attempts += 1
            counted.connected += outcome in CONNECTED
    return counted


def waiting(rules: AgentRules, kind: str, borrower: Borrower, now: datetime) -> Wait | None:
    """None when the task may be handed out now; otherwise the first rule that holds it back."""
    local = now.astimezone(borrower.timezone)
    hours = rules.hours(kind)
    if not hours.holds(local.time()):
        reason = "contact_window" if kind == "agent_call" else "field_visit_hours"
        return Wait(reason, next_opening(hours, local))
    if kind != "agent_call":
        return None
    if borrower.today.connected >= rules.connected_calls_per_day:
        return Wait("daily_call_cap", opening_on(hours, local.date() + timedelta(days=1), borrower.timezone))
    if borrower.today.attempts >= rules.attempts_per_day:
        return Wait("daily_attempt_cap", opening_on(hours, local.date() + timedelta(days=1), borrower.timezone))
    return None


def next_opening(hours: Hours, local: datetime) -> datetime:
    day = local.date() if local.time() < hours.start else local.date() + timedelta(days=1)
    return opening_on(hours, day, local.tzinfo)


def opening_on(hours: Hours, day: date, zone) -> datetime:
    return datetime.combine(day, hours.start, tzinfo=zone)


def take(borrower: Borrower, kind: str) -> None:
    """A call handed out counts as an attempt at once, so one claim cannot overshoot the cap."""
    if kind == "agent_call":
        borrower.today.attempts += 1
