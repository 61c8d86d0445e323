"""The compliance guard: consulted before every send, it says yes, or names the rule that says no and
when that rule would next allow the contact."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")

from dunning_notification.domain.rules import Jurisdiction, jurisdiction_of

VOICE = "voice"
# A hold the dunning scheduler placed on the borrower's case (dispute, complaint, bereavement, hardship).
CASE_HOLD = "case_hold"


@dataclass(frozen=True)
class Preferences:
    opted_out: frozenset[str] = frozenset()
    do_not_contact: bool = False
    hold_until: datetime | None = None
    # The borrower's own contact hours, local time; they can only narrow the jurisdiction's window.
    contact_hours: tuple[time, time] | None = None
    preferred_channel: str | None = None


@dataclass(frozen=True)
class History:
    """Earlier contacts of this borrower, as the guard needs them."""

    attempts_today: int = 0
    connected_calls_today: int = 0
    calls_last_7_days: int = 0
    last_conversation_at: datetime | None = None


@dataclass(frozen=True)
class ContactRequest:
    channel: str
    timezone: str
    region: str
    preferences: Preferences = field(default_factory=Preferences)
    history: History = field(default_factory=History)
    loan_cleared: bool = False
    # Until when a hold placed on the case by the scheduler pauses every contact about the loan.
    case_held_until: datetime | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def jurisdiction(self) -> Jurisdiction:
        return jurisdiction_of(self.region)


@dataclass(frozen=True)
class Allowed:
    allowed = True


@dataclass(frozen=True)
class Suppressed:
    rule: str
    # The next moment this rule allows the contact; None when it never will by itself (an opt-out).
    retry_at: datetime | None
    allowed = False


Verdict = Allowed | Suppressed
Rule = Callable[[ContactRequest, datetime], Suppressed | None]


def check(request: ContactRequest, now: datetime) -> Verdict:
    """The first rule that stops the contact, or Allowed."""
    for rule in RULES:
        verdict = rule(request, now)
        if verdict is not None:
            return verdict
    return Allowed()


def standing_refusal(request: ContactRequest, now: datetime) -> Suppressed | None:
    """The first rule that refuses the borrower or the loan itself (a cure, an opt-out, a hold), leaving out
    the window and the caps: what a settling re-send must still honour, since the provider may never have
    got the first request, though that attempt was already counted."""
    for rule in STANDING_RULES:
        verdict = rule(request, now)
        if verdict is not None:
            return verdict
    return None


def _loan_cleared(request: ContactRequest, now: datetime) -> Suppressed | None:
    return Suppressed("loan_cleared", None) if request.loan_cleared else None


def _do_not_contact(request: ContactRequest, now: datetime) -> Suppressed | None:
    return Suppressed("do_not_contact", None) if request.preferences.do_not_contact else None


def _opt_out(request: ContactRequest, now: datetime) -> Suppressed | None:
    return Suppressed("opt_out", None) if request.channel in request.preferences.opted_out else None


def _hold(request: ContactRequest, now: datetime) -> Suppressed | None:
    until = request.preferences.hold_until
    return Suppressed("hold", until) if until is not None and now < until else None


def _case_hold(request: ContactRequest, now: datetime) -> Suppressed | None:
    until = request.case_held_until
    return Suppressed(CASE_HOLD, until) if until is not None and now < until else None


def quiet_hours(request: ContactRequest, now: datetime) -> Suppressed | None:
    """The jurisdiction's contact window alone: what even a settling re-send to a provider must keep,
    since the provider may not hold the message and the re-send then is a first contact."""
    return _quiet_hours(request, now)


def _quiet_hours(request: ContactRequest, now: datetime) -> Suppressed | None:
    start, end = request.jurisdiction.window_start, request.jurisdiction.window_end
    if within(now, request.zone, start, end):
        return None
    rule = f"{request.jurisdiction.code.lower()}.quiet_hours"
    return Suppressed(rule, next_opening(now, request.zone, start, end))


def _contact_hours(request: ContactRequest, now: datetime) -> Suppressed | None:
    hours = request.preferences.contact_hours
    if hours is None or within(now, request.zone, *hours):
        return None
    return Suppressed("borrower_contact_hours", next_opening(now, request.zone, *hours))


def _daily_attempts(request: ContactRequest, now: datetime) -> Suppressed | None:
    cap = request.jurisdiction.attempts_per_channel_per_day
    if cap is None or request.history.attempts_today < cap:
        return None
    return Suppressed(f"{request.jurisdiction.code.lower()}.daily_attempt_cap", _next_day_opening(request, now))


def _connected_calls(request: ContactRequest, now: datetime) -> Suppressed | None:
    cap = request.jurisdiction.connected_calls_per_day
    if request.channel != VOICE or cap is None or request.history.connected_calls_today < cap:
        return None
    return Suppressed(f"{request.jurisdiction.code.lower()}.daily_call_cap", _next_day_opening(request, now))


def _calls_in_7_days(request: ContactRequest, now: datetime) -> Suppressed | None:
    cap = request.jurisdiction.calls_per_7_days
    if request.channel != VOICE or cap is None or request.history.calls_last_7_days < cap:
        return None
    # The rolling window moves daily; looking again tomorrow is the earliest it can have room.
    return Suppressed(f"{request.jurisdiction.code.lower()}.calls_in_7_days", _next_day_opening(request, now))


def _after_conversation(request: ContactRequest, now: datetime) -> Suppressed | None:
    days = request.jurisdiction.quiet_days_after_conversation
    talked = request.history.last_conversation_at
    if request.channel != VOICE or days is None or talked is None or now >= talked + timedelta(days=days):
        return None
    return Suppressed(f"{request.jurisdiction.code.lower()}.after_conversation", talked + timedelta(days=days))


STANDING_RULES: tuple[Rule, ...] = (_loan_cleared, _do_not_contact, _opt_out, _hold, _case_hold)

# Final refusals first, so a reminder that can never go is not deferred for a passing reason.
RULES: tuple[Rule, ...] = (
    *STANDING_RULES,
    _quiet_hours,
    _contact_hours,
    _daily_attempts,
    _connected_calls,
    _calls_in_7_days,
    _after_conversation,
)


def within(now: datetime, zone: ZoneInfo, start: time, end: time) -> bool:
    local = now.astimezone(zone).time()
    return start <= local < end


def next_opening(now: datetime, zone: ZoneInfo, start: time, end: time) -> datetime:
    """The next moment the local window [start, end) opens, after `now` (which lies outside it)."""
    local = now.astimezone(zone)
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return opening_on(day, zone, start)


def opening_on(day: date, zone: ZoneInfo, start: time) -> datetime:
    return datetime.combine(day, start, tzinfo=zone).astimezone(UTC)


def local_day(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def day_bounds(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The borrower-local calendar day around `now`, as two aware instants (23 or 25 hours on DST days)."""
    zone = ZoneInfo(timezone)
    day = local_day(now, timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    # In UTC: Python subtracts same-zone datetimes by wall clock, which would hide the DST hour.
    return start.astimezone(UTC), end.astimezone(UTC)


def _next_day_opening(request: ContactRequest, now: datetime) -> datetime:
    start = request.jurisdiction.window_start
    if request.preferences.contact_hours:
        start = max(start, request.preferences.contact_hours[0])
    return opening_on(local_day(now, request.timezone) + timedelta(days=1), request.zone, start)
