"""A dry run of a real loan: its situation taken from its open case, or, before any case, from what
LoanBooked told (lender, product, time zone, the next due date). Reads only; nothing is changed."""

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from dunning_messaging import UnitOfWork
from dunning_platform.errors import Conflict, NotFound
from dunning_scheduler.adapters.orm import Case, LoanProfile
from dunning_scheduler.adapters.repository import CaseRepository, LoanRepository
from dunning_scheduler.domain.borrower import DEFAULT_CONTEXT
from dunning_scheduler.domain.calendar import Calendar
from dunning_scheduler.domain.policy import Policy
from dunning_scheduler.domain.simulation import Scenario


@dataclass(frozen=True)
class KnownLoan:
    scenario: Scenario
    source: str  # "case" or "loan"
    case: Case | None = None


async def known_loan(uow: UnitOfWork, loan_id: str, lender: str | None, policy: Policy, start: datetime) -> KnownLoan:
    """404 for a loan the scheduler has never heard of, or one of another lender (to a lender's token)."""
    case = next((c for c in await CaseRepository(uow.session).for_loan(loan_id) if c.status != "resolved"), None)
    profile = await LoanRepository(uow.session).get(loan_id)
    owner = case.lender if case else profile.lender if profile else None
    if owner is None or (lender is not None and owner != lender):
        raise NotFound(f"no loan {loan_id}")
    if case is not None:
        return KnownLoan(from_case(case, profile, policy, start), "case", case)
    return KnownLoan(from_profile(profile, start), "loan")


def from_case(case: Case, profile: LoanProfile | None, policy: Policy, start: datetime) -> Scenario:
    timezone = profile.timezone if profile else DEFAULT_CONTEXT.timezone
    # Counted on the case's own calendar, so a start days after the last LoanOverdue is that much later.
    days = Calendar.of(case.day_zero, timezone, policy.contact_window).days_past_due(start)
    return Scenario(
        days, case.overdue_amount, timezone, case.broken_promises, case.loan_id, case.lender, case.product,
        stage=case.stage, risk_band=case.risk_band, failed_contacts=case.failed_contacts,
    )


def from_profile(profile: LoanProfile, start: datetime) -> Scenario:
    """Before any case: the days until the next due date; the overdue amount is 0 until it falls due."""
    today = start.astimezone(ZoneInfo(profile.timezone)).date()
    ahead = sorted(d for d in (date.fromisoformat(v) for v in profile.due_dates) if d >= today)
    if not ahead:
        raise Conflict(f"loan {profile.loan_id} has no open case and no due date ahead; give days_past_due")
    # The profile keeps no product (LoanBooked's is not stored): a segment by product needs it in the request.
    return Scenario(-(ahead[0] - today).days, Decimal("0"), profile.timezone, 0, profile.loan_id, profile.lender)


def with_given(scenario: Scenario, given: dict) -> Scenario:
    """What the request states explicitly wins over what the loan says."""
    return replace(scenario, **given)
