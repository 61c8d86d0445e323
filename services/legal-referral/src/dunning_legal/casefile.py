"""The evidence file of a referral and the facts of its demand letter, gathered only from events this
service consumed."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dunning_legal.adapters.orm import CaseEventEntry, ContactAttempt, LegalCase, Loan, OverdueEntry
from dunning_legal.adapters.pii import NameVault
from dunning_legal.adapters.repository import LegalRepository
from dunning_legal.domain.arrangements import CaseFact, arrangements
from dunning_legal.domain.contacts import is_agent_contact
from dunning_legal.domain.evidence import EvidenceFile
from dunning_legal.domain.letters import DemandFacts


async def evidence_of(repo: LegalRepository, case: LegalCase, as_of: datetime) -> EvidenceFile:
    """The file as it stood at `as_of`: only what had been recorded by then, so it can be rebuilt later
    and still match the digests a letter or a filing cites."""
    loan = await repo.loan(case.loan_id)
    history = await repo.overdue_history(case.loan_id, as_of=as_of)
    attempts = await repo.contact_attempts(case.loan_id, as_of=as_of)
    case_events = await repo.case_events(case.loan_id, as_of=as_of)
    parts = {
        "loan_snapshot": _loan_snapshot(case.loan_id, loan, history, as_of),
        "overdue_history": [_history_item(entry) for entry in history],
        "contact_attempts": [_attempt_item(attempt) for attempt in attempts],
        "escalation": case.escalation,
    }
    if case_events:
        parts["arrangements"] = arrangements(_fact(entry) for entry in case_events)
    return EvidenceFile(parts)


def _loan_snapshot(loan_id: str, loan: Loan | None, history: list[OverdueEntry], as_of: datetime) -> dict:
    snapshots = [entry for entry in history if entry.event_type == "LoanOverdue"]
    latest = max(snapshots, key=lambda entry: (entry.occurred_at, entry.id), default=None)
    booked = loan is not None and loan.booking_recorded_at is not None and loan.booking_recorded_at <= as_of
    return {
        "loan_id": loan_id,
        "booking": loan.booking if booked else None,
        "latest_overdue": latest.data if latest else None,
    }


def _history_item(entry: OverdueEntry) -> dict:
    return {
        "type": entry.event_type,
        "event": entry.event_id,
        "occurred_at": entry.occurred_at.isoformat(),
        "data": entry.data,
    }


def _attempt_item(attempt: ContactAttempt) -> dict:
    return _agent_contact_item(attempt) if is_agent_contact(attempt.kind) else _reminder_item(attempt)


def _reminder_item(attempt: ContactAttempt) -> dict:
    # The shape a reminder had before agents' contacts were kept, so files cited then keep their digests.
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


def _agent_contact_item(attempt: ContactAttempt) -> dict:
    return {
        "kind": attempt.kind,
        "channel": attempt.channel,
        "task_id": attempt.task_id,
        "case_id": attempt.case_id,
        "agent_id": attempt.agent_id,
        "connected": attempt.connected,
        "outcome": attempt.outcome,
        "occurred_at": attempt.occurred_at.isoformat(),
        "event": attempt.event_id,
    }


def _fact(entry: CaseEventEntry) -> CaseFact:
    return CaseFact(type=entry.event_type, event=entry.event_id, occurred_at=entry.occurred_at, data=entry.data)


async def bundle_of(repo: LegalRepository, case: LegalCase, as_of: datetime) -> dict:
    evidence = await evidence_of(repo, case, as_of)
    header = {"legal_case_id": case.legal_case_id, "case_id": case.case_id, "loan_id": case.loan_id}
    return evidence.as_bundle(header | {"as_of": as_of.isoformat()})


async def demand_facts(
    repo: LegalRepository, case: LegalCase, bundle: dict, *, names: NameVault, at: datetime, pay_within: timedelta
) -> tuple[DemandFacts, str | None]:
    """What the demand letter states (the figures of the file it comes with), and the borrower's locale
    when a booking told it."""
    loan = await repo.loan(case.loan_id)
    partner = await repo.partner(case.partner_id)
    latest = bundle["parts"]["loan_snapshot"]["latest_overdue"] or {}
    today = at.astimezone(_borrower_zone(loan)).date()
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
        file_digest=bundle["file_digest"],
    )
    return facts, loan.locale if loan else None


def _borrower_zone(loan: Loan | None) -> ZoneInfo:
    """Dates in the letter are the borrower's dates: 'pay by the 11th' means the 11th where they live."""
    zone = (((loan.booking if loan else None) or {}).get("borrower") or {}).get("timezone")
    try:
        return ZoneInfo(zone) if zone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")
