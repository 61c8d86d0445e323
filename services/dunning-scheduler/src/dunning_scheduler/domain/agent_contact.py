"""When an agent may take a task: calls only inside the contact window of the borrower's own clock and
under the call caps of the borrower's jurisdiction, field visits only in daytime hours. Pure: the adapter
brings the borrower's time zone, region and recent calls (agents' calls and voice reminders alike), this
module says whether the task waits, why, and until when."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# The borrower was reached: a conversation took place, whatever came of it.
CONNECTED = frozenset({"contacted", "promise", "refused", "hardship", "dispute"})
WEEK = timedelta(days=7)
# Calls older than this count for no rule (7 days, plus a day for the borrower's local day).
LOOKBACK = timedelta(days=8)


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
    # Per borrower-local day, agents' calls and voice reminders together (None: no such cap).
    attempts_per_day: int | None = None
    connected_calls_per_day: int | None = None
    # Regulation F style: at most N calls in a rolling 7 days, none for N days after a conversation.
    calls_per_7_days: int | None = None
    quiet_days_after_conversation: int | None = None

    def hours(self, kind: str) -> Hours:
        return self.call_hours if kind == "agent_call" else self.visit_hours


# US, Regulation F (12 CFR part 1006). 1006.6(b)(1)(i): before 8 a.m. and after 9 p.m. local time is
# presumed inconvenient. 1006.14(b)(2): more than 7 calls in 7 consecutive days, or a call within 7 days
# after a telephone conversation, is presumed harassment. The same numbers as notification's guard.
US_HOURS = Hours(time(8), time(21))
US_CALLS_PER_7_DAYS = 7
US_QUIET_DAYS_AFTER_CONVERSATION = 7


@dataclass(frozen=True)
class RuleBook:
    """The rules of each jurisdiction, chosen by the borrower's region; an unknown region gets CN."""

    by_code: dict[str, AgentRules]

    def of(self, region: str | None) -> AgentRules:
        code = (region or "CN").upper().split("-")[0]
        return self.by_code.get(code, self.by_code["CN"])


def rule_book(cn: AgentRules, policy: Hours) -> RuleBook:
    """CN as configured, US as the law says; both kept inside the policy's contact window."""
    us = AgentRules(
        call_hours=US_HOURS.narrowed(policy),
        visit_hours=cn.visit_hours.narrowed(US_HOURS).narrowed(policy),
        calls_per_7_days=US_CALLS_PER_7_DAYS,
        quiet_days_after_conversation=US_QUIET_DAYS_AFTER_CONVERSATION,
    )
    cn = AgentRules(cn.call_hours.narrowed(policy), cn.visit_hours.narrowed(policy), cn.attempts_per_day, cn.connected_calls_per_day)
    return RuleBook({"CN": cn, "US": us})


@dataclass(frozen=True)
class Wait:
    reason: str  # contact_window, field_visit_hours, daily_attempt_cap, daily_call_cap, calls_in_7_days, after_conversation
    until: datetime


@dataclass(frozen=True)
class Call:
    """One phone contact with the borrower: an agent's call (claimed or done) or a voice reminder sent."""

    at: datetime
    connected: bool = False


@dataclass
class CallTally:
    """A borrower's recent calls: attempts and conversations of today (borrower-local), the calls of the
    last 7 days (oldest first) and the last conversation."""

    attempts: int = 0
    connected: int = 0
    week: list[datetime] = field(default_factory=list)
    last_conversation: datetime | None = None


@dataclass
class Borrower:
    timezone: ZoneInfo
    today: CallTally = field(default_factory=CallTally)
    region: str = "CN"


def tally(calls: Iterable[Call], zone: ZoneInfo, now: datetime) -> CallTally:
    """Count the calls of the borrower's local day of `now`, and those of the 7 days before `now`."""
    today = now.astimezone(zone).date()
    counted = CallTally()
    for call in sorted(calls, key=lambda c: c.at):
        if call.at.astimezone(zone).date() == today:
            counted.attempts += 1
            counted.connected += call.connected
        if call.at > now - WEEK:
            counted.week.append(call.at)
        if call.connected:
            counted.last_conversation = call.at
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
    return _daily_caps(rules, borrower, local) or _weekly_caps(rules, borrower, now)


def _daily_caps(rules: AgentRules, borrower: Borrower, local: datetime) -> Wait | None:
    tomorrow = opening_on(rules.call_hours, local.date() + timedelta(days=1), borrower.timezone)
    if _reached(borrower.today.connected, rules.connected_calls_per_day):
        return Wait("daily_call_cap", tomorrow)
    if _reached(borrower.today.attempts, rules.attempts_per_day):
        return Wait("daily_attempt_cap", tomorrow)
    return None


def _weekly_caps(rules: AgentRules, borrower: Borrower, now: datetime) -> Wait | None:
    week, talked = borrower.today.week, borrower.today.last_conversation
    if _reached(len(week), rules.calls_per_7_days):
        # Room again once enough of the oldest calls have left the rolling 7 days.
        frees = week[len(week) - rules.calls_per_7_days] + WEEK
        return Wait("calls_in_7_days", first_open(rules.call_hours, frees, borrower.timezone))
    quiet = rules.quiet_days_after_conversation
    if quiet is not None and talked is not None and now < talked + timedelta(days=quiet):
        return Wait("after_conversation", first_open(rules.call_hours, talked + timedelta(days=quiet), borrower.timezone))
    return None


def _reached(count: int, cap: int | None) -> bool:
    return cap is not None and count >= cap


def first_open(hours: Hours, at: datetime, zone: ZoneInfo) -> datetime:
    """`at` itself when the window is open then, else the window's next opening after it."""
    local = at.astimezone(zone)
    return local if hours.holds(local.time()) else next_opening(hours, local)


def next_opening(hours: Hours, local: datetime) -> datetime:
    day = local.date() if local.time() < hours.start else local.date() + timedelta(days=1)
    return opening_on(hours, day, local.tzinfo)


def opening_on(hours: Hours, day: date, zone) -> datetime:
    return datetime.combine(day, hours.start, tzinfo=zone)


def take(borrower: Borrower, kind: str, now: datetime) -> None:
    """A call handed out counts as an attempt at once, so one claim cannot overshoot a cap."""
    if kind == "agent_call":
        borrower.today.attempts += 1
        borrower.today.week.append(now)
