"""The evidence file of a referral and the facts of its demand letter, gathered only from events this
service consumed."""

from datetime import date, timedelta
from decimal import Decimal

from dunning_legal.adapters.orm import ContactAttempt, LegalCase, Loan, OverdueEntry
from dunning_legal.adapters.pii import NameVault
from dunning_legal.adapters.repository import LegalRepository
from dunning_legal.domain.evidence import EvidenceFile
from dunning_legal.domain.letters import DemandFacts


async def evidence_of(repo: LegalRepository, case: LegalCase) -> EvidenceFile:
    loan = await repo.loan(case.loan_id)
    history = await repo.overdue_history(case.loan_id)
    attempts = await repo.contact_attempts(case.loan_id)
    return EvidenceFile(
        {
            "loan_snapshot": _loan_snapshot(case.loan_id, loan),
            "overdue_history": [_history_item(entry) for entry in history],
            "contact_attempts": [_attempt_item(attempt) for attempt in attempts],
            "escalation": case.escalation,
        }
    )


def _loan_snapshot(loan_id: str, loan: Loan | None) -> dict:
    return {
        "loan_id": loan_id,
        "booking": loan.booking if loan else None,
        "latest_overdue": loan.snapshot if loan else None,
    }


def _history_item(entry: OverdueEntry) -> dict:
    return {
        "type": entry.event_type,
        "event": entry.event_id,
        "occurred_at": entry.occurred_at.isoformat(),
        "data": entry.data,
    }


def _attempt_item(attempt: ContactAttempt) -> dict:
    return {
        "reminder_id": attempt.reminder_id,
        "channel": attempt.channel,
        "status": attempt.status,
        "reason": attempt.reason,
        "provider": attempt.provider,
        "provider_message_id": attempt.provider_message_id,
        "occurred_at": attempt.occurred_at.isoformat(),
        "event": attempt.event_id,
    }


async def demand_facts(
    repo: LegalRepository, case: LegalCase, file_digest: str, *, names: NameVault, today: date, pay_within: timedelta
) -> tuple[DemandFacts, str | None]:
    """What the demand letter states, and the borrower's locale when a booking told it."""
    loan = await repo.loan(case.loan_id)
    partner = await repo.partner(case.partner_id)
    latest = (loan.snapshot if loan else None) or {}
    facts = DemandFacts(
        legal_case_id=case.legal_case_id,
        loan_id=case.loan_id,
        lender=(loan.lender if loan else None) or case.lender or "the lender",
        borrower_id=case.borrower_id,
        borrower_name=names.open(loan.borrower_name_sealed) if loan else None,
        currency=latest.get("currency", case.currency),
        overdue_amount=Decimal(latest.get("overdue_amount", case.overdue_amount)),
        penalty_accrued=Decimal(latest.get("penalty_accrued", "0")),
        outstanding_balance=Decimal(latest.get("outstanding_balance", case.overdue_amount)),
        days_past_due=latest.get("days_past_due", case.escalation["days_past_due"]),
        overdue_since=date.fromisoformat(latest["overdue_since"]) if latest.get("overdue_since") else None,
        partner_name=partner.name if partner else case.partner_id,
        issued_on=today,
        pay_by=today + pay_within,
        file_digest=file_digest,
    )
    return facts, loan.locale if loan else None
