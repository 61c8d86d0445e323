"""One function per bus event; HANDLERS is the one table of what this service consumes.

The loan facts, overdue history, contact attempts (reminders and agents' calls) and case events are kept
for every loan, whether or not it is ever referred: the evidence file of a referral is built from them, and
they may arrive before the escalation does (they travel on other topics)."""

import logging
from datetime import datetime
from functools import partial

from dunning_contracts import CloudEvent
from dunning_contracts.events import (
    CaseEscalated,
    CaseEvent,
    ContactAttempted,
    LoanBooked,
    LoanOverdue,
    OverdueCleared,
    ReminderSent,
)
from dunning_legal.adapters.orm import CaseEventEntry, ContactAttempt, OverdueEntry
from dunning_legal.adapters.repository import LegalRepository
from dunning_legal.domain.contacts import agent_kind
from dunning_legal.domain.intake import Escalation, LoanState, reason_not_to_refer
from dunning_legal.referrals import ReferralPolicy, apply_move, open_referral
from dunning_messaging import Handler, UnitOfWork

log = logging.getLogger(__name__)


async def on_case_escalated(uow: UnitOfWork, event: CloudEvent, data: CaseEscalated, *, policy: ReferralPolicy) -> None:
    if data.to_stage != "legal":
        return
    repo = LegalRepository(uow.session)
    loan = await repo.lock_loan(data.loan_id)
    state = LoanState(
        already_referred_case=await repo.case_for_collection_case(data.case_id) is not None,
        open_referral_of_loan=bool(await repo.open_cases_of_loan(data.loan_id)),
        cleared_at=loan.cleared_at,
    )
    refusal = reason_not_to_refer(Escalation(data.case_id, data.to_stage, data.escalated_at), state)
    if refusal:
        log.info("case %s of loan %s not referred: %s", data.case_id, data.loan_id, refusal)
        return
    await open_referral(uow, data, policy)


async def on_loan_booked(uow: UnitOfWork, event: CloudEvent, data: LoanBooked, *, policy: ReferralPolicy) -> None:
    loan = await LegalRepository(uow.session).lock_loan(data.loan_id)
    loan.borrower_id, loan.lender = data.borrower.borrower_id, data.lender
    loan.region, loan.locale = data.borrower.region, data.borrower.locale
    # The terms as first booked are evidence; a repeated booking must not rewrite a file already cited.
    if loan.booking is None:
        # Phone and e-mail are not needed here; the name only addresses the demand letter, so it is sealed.
        loan.booking = data.model_dump(mode="json", exclude={"borrower": {"name", "phone", "email"}})
        loan.booking_recorded_at = uow.clock.now()
    loan.borrower_name_sealed = policy.names.seal(data.borrower.name)


async def on_loan_overdue(uow: UnitOfWork, event: CloudEvent, data: LoanOverdue, *, policy: ReferralPolicy) -> None:
    repo = LegalRepository(uow.session)
    loan = await repo.lock_loan(data.loan_id)
    repo.add(_history_entry(uow, event, data.loan_id, data.as_of))
    if loan.snapshot_as_of is not None and loan.snapshot_as_of > data.as_of:
        return  # an older snapshot arriving late does not replace a newer one
    loan.snapshot, loan.snapshot_as_of = event.data, data.as_of
    loan.borrower_id, loan.lender = data.borrower_id, data.lender
    if loan.cleared_at is not None and loan.cleared_at <= data.as_of:
        loan.cleared_at = None
    await repo.fill_lender(data.loan_id, data.lender)


async def on_overdue_cleared(
    uow: UnitOfWork, event: CloudEvent, data: OverdueCleared, *, policy: ReferralPolicy
) -> None:
    """Cure after referral: the referral is withdrawn and its partner told to stop."""
    repo = LegalRepository(uow.session)
    loan = await repo.lock_loan(data.loan_id)
    repo.add(_history_entry(uow, event, data.loan_id, data.cleared_at))
    if loan.snapshot_as_of is not None and loan.snapshot_as_of > data.cleared_at:
        return  # a clearing that arrives after a newer overdue snapshot is history, not a cure
    loan.cleared_at = max(filter(None, (loan.cleared_at, data.cleared_at)))
    note = f"overdue cleared ({data.reason}) at {data.cleared_at.isoformat()}"
    for case in await repo.open_cases_of_loan(data.loan_id):
        await apply_move(uow, repo, case, "withdrawn", actor="system:overdue-cleared", note=note)


async def on_reminder_sent(uow: UnitOfWork, event: CloudEvent, data: ReminderSent, *, policy: ReferralPolicy) -> None:
    LegalRepository(uow.session).add(
        ContactAttempt(
            loan_id=data.loan_id,
            reminder_id=data.reminder_id,
            channel=data.channel,
            status=data.status,
            reason=data.reason,
            provider=data.provider,
            provider_message_id=data.provider_message_id,
            occurred_at=data.occurred_at,
            recorded_at=uow.clock.now(),
            event_id=f"{event.source}#{event.id}",
        )
    )


async def on_contact_attempted(
    uow: UnitOfWork, event: CloudEvent, data: ContactAttempted, *, policy: ReferralPolicy
) -> None:
    """An agent's call or field visit, on record with the reminders; a task reported twice is one row."""
    await LegalRepository(uow.session).add_agent_contact(
        ContactAttempt(
            loan_id=data.loan_id,
            kind=agent_kind(data.channel),
            channel=data.channel,
            task_id=data.task_id,
            case_id=data.case_id,
            agent_id=data.agent_id,
            connected=data.connected,
            outcome=data.outcome,
            occurred_at=data.occurred_at,
            recorded_at=uow.clock.now(),
            event_id=f"{event.source}#{event.id}",
        )
    )


async def on_case_event(uow: UnitOfWork, event: CloudEvent, data: CaseEvent, *, policy: ReferralPolicy) -> None:
    """A promise, hold or repayment plan made or ended: kept as it came; the file reads the status from them."""
    LegalRepository(uow.session).add(
        CaseEventEntry(
            loan_id=data.loan_id,
            case_id=data.case_id,
            event_type=event.type,
            event_id=f"{event.source}#{event.id}",
            occurred_at=data.occurred_at,
            recorded_at=uow.clock.now(),
            data=data.model_dump(mode="json"),
        )
    )


def _history_entry(uow: UnitOfWork, event: CloudEvent, loan_id: str, occurred_at: datetime) -> OverdueEntry:
    return OverdueEntry(
        loan_id=loan_id,
        event_type=event.type,
        event_id=f"{event.source}#{event.id}",
        occurred_at=occurred_at,
        recorded_at=uow.clock.now(),
        data=event.data,
    )


HANDLERS = {
    "CaseEscalated": on_case_escalated,
    "LoanBooked": on_loan_booked,
    "LoanOverdue": on_loan_overdue,
    "OverdueCleared": on_overdue_cleared,
    "ReminderSent": on_reminder_sent,
    "PromiseMade": on_case_event,
    "PromiseKept": on_case_event,
    "PromiseBroken": on_case_event,
    "HoldPlaced": on_case_event,
    "HoldReleased": on_case_event,
    "PlanAgreed": on_case_event,
    "PlanCompleted": on_case_event,
    "PlanBroken": on_case_event,
    "ContactAttempted": on_contact_attempted,
}


def bound_handlers(policy: ReferralPolicy) -> dict[str, Handler]:
    """HANDLERS with the service's referral policy, in the shape the consumer calls."""
    return {name: partial(handler, policy=policy) for name, handler in HANDLERS.items()}
