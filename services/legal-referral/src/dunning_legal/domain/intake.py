"""Whether an escalation becomes a referral. Events reach this service on several topics, so the
escalation may arrive after the loan was cured, or twice, or for a loan already with a partner."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Escalation:
    case_id: str
    to_stage: str
    escalated_at: datetime


@dataclass(frozen=True)
class LoanState:
    already_referred_case: bool
    open_referral_of_loan: bool
    cleared_at: datetime | None


def reason_not_to_refer(escalation: Escalation, loan: LoanState) -> str | None:
    """None when a referral should be opened; otherwise why not, for the log."""
    if escalation.to_stage != "legal":
        return f"escalated to {escalation.to_stage}, not to legal"
    if loan.already_referred_case:
        return f"case {escalation.case_id} is already referred"
    if loan.cleared_at is not None and loan.cleared_at >= escalation.escalated_at:
        return "the loan was cured after the escalation"
    if loan.open_referral_of_loan:
        return "the loan already has an open referral"
    return None
