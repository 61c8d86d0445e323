"""Repayment plans: whether the terms of one can be agreed, when its reminders and checks fall, and what
a check decides (kept so far, completed, or broken at the first instalment not covered)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext
from typing import Literal

from dunning_contracts.events import Stage
from dunning_scheduler.domain.calendar import Calendar
from dunning_scheduler.domain.pauses import promise_ends
from dunning_scheduler.domain.planner import PlannedAction
from dunning_scheduler.domain.policy import PlanRules


# An arrangement longer than this is a restructuring, not a plan; it also keeps dates far from date.max.
HORIZON = timedelta(days=5 * 366)


@dataclass(frozen=True)
class Installment:
    seq: int
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class Verdict:
    status: Literal["active", "completed", "broken"]
    kept: int
    missed_seq: int | None
    reason: str


class PlanRefused(ValueError):
    """Terms that cannot be agreed; `field` names the part of the request at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def numbered(terms: list[tuple[date, Decimal]]) -> list[Installment]:
    return [Installment(seq, due, amount) for seq, (due, amount) in enumerate(terms, start=1)]


def total_of(installments: list[Installment]) -> Decimal:
    # Amounts may carry 30 integer digits: add them without the default context's rounding.
    with localcontext() as context:
        context.prec = 80
        return sum((i.amount for i in installments), Decimal(0))


def check_terms(
    installments: list[Installment], currency: str, case_currency: str, total: Decimal | None, today: date, rules: PlanRules
) -> None:
    if currency != case_currency:
        raise PlanRefused("currency", f"{currency} is not the case's currency {case_currency}")
    if len(installments) > rules.max_installments:
        raise PlanRefused("installments", f"{len(installments)} instalments; the policy allows at most {rules.max_installments}")
    for index, installment in enumerate(installments):
        check_installment(index, installment, installments[index - 1] if index else None, today)
    if total is not None and total != total_of(installments):
        raise PlanRefused("total", f"{total} is not the sum of the instalments ({total_of(installments)})")


def check_installment(index: int, installment: Installment, previous: Installment | None, today: date) -> None:
    where = f"installments.{index}"
    if decimal_places(installment.amount) > 2:
        raise PlanRefused(f"{where}.amount", f"{installment.amount} has more than two decimal places")
    if installment.due_date < today:
        raise PlanRefused(f"{where}.due_date", f"{installment.due_date} is in the past for the borrower")
    if installment.due_date > today + HORIZON:
        raise PlanRefused(f"{where}.due_date", f"{installment.due_date} is more than five years ahead")
    if previous and installment.due_date <= previous.due_date:
        raise PlanRefused(f"{where}.due_date", f"{installment.due_date} is not after the instalment before it ({previous.due_date})")


def decimal_places(amount: Decimal) -> int:
    """Places that carry a digit: 12.50 has one, 12.505 three (normalize() would round long amounts)."""
    _, digits, exponent = amount.as_tuple()
    while exponent < 0 and digits and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return max(-exponent, 0)


def check_times(installments: list[Installment], grace_days: int, calendar: Calendar) -> list[datetime]:
    """Each instalment is checked as a promise is: the window's opening the day after its date plus grace."""
    return [promise_ends(i.due_date, grace_days, calendar) for i in installments]


def next_check(installments: list[Installment], grace_days: int, calendar: Calendar, now: datetime) -> tuple[int, datetime] | None:
    """The seq and time of the first check still ahead."""
    ahead = [(i.seq, at) for i, at in zip(installments, check_times(installments, grace_days, calendar)) if at > now]
    return ahead[0] if ahead else None


def assess(installments: list[Installment], paid: Decimal, checked: int) -> Verdict:
    """At a check, with `checked` instalments past their date plus grace: kept while what was paid since
    the plan covers all of them; broken at the first one it does not cover."""
    running = Decimal(0)
    for index, installment in enumerate(installments[:checked]):
        running = total_of(installments[: index + 1])
        if paid < running:
            reason = f"instalment {installment.seq} missed: {paid} paid since the plan, {running} due by {installment.due_date}"
            return Verdict("broken", installment.seq - 1, installment.seq, reason)
    if checked == len(installments):
        return Verdict("completed", checked, None, f"all {checked} instalments kept: {paid} paid, {running} due")
    return Verdict("active", checked, None, f"{checked} of {len(installments)} instalments kept: {paid} paid, {running} due so far")


def checked_by(installments: list[Installment], grace_days: int, calendar: Calendar, now: datetime) -> int:
    return sum(1 for at in check_times(installments, grace_days, calendar) if at <= now)


def plan_reminders(
    installments: list[Installment], rules: PlanRules, calendar: Calendar, stage: Stage, ttl_hours: int, now: datetime
) -> list[PlannedAction]:
    """A reminder some days before each instalment still ahead, when the borrower's window opens."""
    planned = []
    for installment in installments:
        day = (installment.due_date - calendar.day_zero).days - rules.reminder_days_before
        at = calendar.opening(day)
        if at > now:
            reason = f"instalment {installment.seq} of the repayment plan, {installment.amount} due {installment.due_date}"
            expires_at = at + timedelta(hours=ttl_hours)
            planned.append(PlannedAction("reminder", at, stage, day, reason, rules.reminder_channel, rules.reminder_template, at, expires_at))
    return planned
