"""Which actions a stage plans, and when: offsets in days past due, the first due action at entry,
reminders kept within the caps, and pre-due reminders before an installment falls due."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from dunning_contracts.events import Channel, Stage
from dunning_scheduler.domain.calendar import Calendar
from dunning_scheduler.domain.policy import Action, Caps, Policy

# Kinds of timer whose firing asks someone to act; the others are the case's own checkpoints.
ACTION_KINDS = ("reminder", "agent_call", "field_visit")
# The checkpoint that plans the pre-due reminders of a loan's next installment (see plan_pre_due).
PRE_DUE_NEXT = "pre_due_next"


@dataclass(frozen=True)
class PlannedAction:
    kind: str
    due_at: datetime
    stage: Stage
    day: int | None
    reason: str
    channel: Channel | None = None
    template: str | None = None
    not_before: datetime | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Skipped:
    action: PlannedAction
    reason: str


@dataclass(frozen=True)
class Plan:
    actions: list[PlannedAction] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def occurrences(actions: Iterable[Action]) -> list[tuple[int, Action]]:
    return sorted(((day, action) for action in actions for day in action.days()), key=lambda o: o[0])


def split_at_entry(occurs: list[tuple[int, Action]], today: int) -> tuple[list, list]:
    """(fire now, fire later). Now: the latest occurrences already due; when none is due yet (a stage
    entered early, e.g. after broken promises), the stage's first ones: entering a stage always acts."""
    past = [o for o in occurs if o[0] <= today]
    later = [o for o in occurs if o[0] > today]
    if past:
        last = past[-1][0]
        return [o for o in past if o[0] == last], later
    if not later:
        return [], []
    first = later[0][0]
    return [o for o in later if o[0] == first], [o for o in later if o[0] != first]


def plan_stage(policy: Policy, stage: Stage, calendar: Calendar, now: datetime, sent: list[datetime]) -> Plan:
    """The actions of `stage` for a case entering (or resuming) it at `now`, within the caps."""
    today = calendar.days_past_due(now)
    now_part, later_part = split_at_entry(occurrences(policy.stage(stage).actions), today)
    planned = [_action(a, day, stage, now, f"entering {stage} on day {today}") for day, a in now_part]
    planned += [_action(a, day, stage, calendar.opening(day), f"day {day} of {stage}") for day, a in later_part]
    return within_caps([_timed(p, calendar, policy) for p in planned], policy.caps, calendar, sent)


def _action(action: Action, day: int, stage: Stage, due_at: datetime, reason: str) -> PlannedAction:
    return PlannedAction(action.kind, due_at, stage, day, reason, action.channel, action.template)


def _timed(planned: PlannedAction, calendar: Calendar, policy: Policy) -> PlannedAction:
    if planned.kind != "reminder":
        return planned
    not_before = calendar.not_before(planned.due_at)
    expires_at = not_before + timedelta(hours=policy.reminder_ttl_hours)
    # Built anew rather than with dataclasses.replace, which costs several times more on this hot path.
    p = planned
    return PlannedAction(p.kind, p.due_at, p.stage, p.day, p.reason, p.channel, p.template, not_before, expires_at)


def within_caps(planned: list[PlannedAction], caps: Caps, calendar: Calendar, sent: list[datetime]) -> Plan:
    """Keep reminders, in time order, while the borrower's day and 7-day counts stay within the caps."""
    # Local days as ordinals, each converted once: a plan checks every reminder against all the earlier ones.
    kept, skipped, days = [], [], [calendar.local_date(t).toordinal() for t in sent]
    for action in sorted(planned, key=lambda a: a.due_at):
        if action.kind != "reminder":
            kept.append(action)
            continue
        day = calendar.local_date(action.not_before)
        excess = _cap_exceeded(day, caps, days)
        if excess:
            skipped.append(Skipped(action, excess))
            continue
        kept.append(action)
        days.append(day.toordinal())
    return Plan(kept, skipped)


def _cap_exceeded(day: date, caps: Caps, days: list[int]) -> str | None:
    """Days are the borrower's local days; the week is the 7 local days ending on the reminder's day."""
    ordinal = day.toordinal()
    same_day = days.count(ordinal)
    if same_day >= caps.per_day:
        return f"cap: already {same_day} reminders on {day} (per_day {caps.per_day})"
    week = len([earlier for earlier in days if ordinal - 7 < earlier <= ordinal])
    if week >= caps.per_week:
        return f"cap: already {week} reminders in the 7 days to {day} (per_week {caps.per_week})"
    return None


def plan_review(day: int | None, stage: Stage, calendar: Calendar) -> list[PlannedAction]:
    """A checkpoint on the day the case's days past due will call for a later stage."""
    if day is None:
        return []
    return [PlannedAction("review", calendar.opening(day), stage, day, f"day {day} may call for a later stage")]


def plan_pre_due(policy: Policy, due_dates: Iterable[date], timezone: str, now: datetime) -> list[PlannedAction]:
    """Reminders some days before the next due date still ahead, each on its day's window opening. When
    later installments have reminders ahead too, a checkpoint at the last of these plans theirs then: a
    24-installment loan holds its next two reminders and a checkpoint, not 48 timers from its booking."""
    ahead = sorted(_pre_due_ahead(policy, due_dates, timezone, now), key=lambda dated: dated[1].due_at)
    if not ahead:
        return []
    nearest = min(due_date for due_date, _ in ahead)
    horizon = max(action.due_at for due_date, action in ahead if due_date == nearest)
    planned = [action for _, action in ahead if action.due_at <= horizon]
    later = [due_date for due_date, action in ahead if action.due_at > horizon]
    if later:
        reason = f"plans the reminders before the installment due {min(later)}"
        planned.append(PlannedAction(PRE_DUE_NEXT, horizon, "reminder", None, reason))
    return planned


def _pre_due_ahead(policy: Policy, due_dates: Iterable[date], timezone: str, now: datetime) -> list[tuple[date, PlannedAction]]:
    ahead = []
    for due_date in sorted(set(due_dates)):
        calendar = Calendar.of(due_date, timezone, policy.contact_window)
        for rule in policy.pre_due:
            at = calendar.opening(-rule.days_before)
            if at > now:
                reason = f"{rule.days_before} days before the installment due {due_date}"
                action = PlannedAction("reminder", at, "reminder", -rule.days_before, reason, rule.channel, rule.template)
                ahead.append((due_date, _timed(action, calendar, policy)))
    return ahead
