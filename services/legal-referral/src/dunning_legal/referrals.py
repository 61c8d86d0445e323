"""What happens to a referral, shared by the bus handlers, the HTTP routes and the deadline sweep:
open it, move it, re-assign it; each step audited, told to the partner and emitted in one transaction."""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dunning_contracts.events import CaseEscalated, LegalCaseOpened, LegalCaseUpdated
from dunning_legal.adapters.orm import AuditEntry, LegalCase, PartnerNotice
from dunning_legal.adapters.pii import NameVault
from dunning_legal.adapters.repository import LegalRepository
from dunning_legal.casefile import bundle_of
from dunning_legal.domain import lifecycle
from dunning_legal.domain.assignment import Candidate, NoPartnerAvailable, choose_partner
from dunning_messaging import UnitOfWork
from dunning_platform.errors import Conflict, DomainError, NotFound

log = logging.getLogger(__name__)

SYSTEM = "system"
# The same collection case always maps to the same referral id, so a replay cannot mint a second one.
_REFERRAL_NAMESPACE = uuid.UUID("6f1d3c2e-9b1a-4c3f-8a57-2d0c1e5b7a90")


@dataclass(frozen=True)
class ReferralPolicy:
    default_region: str
    acceptance_deadline: timedelta
    names: NameVault = field(default_factory=lambda: NameVault(None))


class NoPartner(DomainError):
    title = "No partner available"


def legal_case_id_for(case_id: str) -> str:
    return str(uuid.uuid5(_REFERRAL_NAMESPACE, case_id))


async def open_referral(uow: UnitOfWork, escalation: CaseEscalated, policy: ReferralPolicy) -> LegalCase:
    """Open the referral and give it a partner; with none available it waits, unassigned, for one."""
    repo = LegalRepository(uow.session)
    loan = await repo.loan(escalation.loan_id)
    region = (loan.region if loan else None) or policy.default_region
    case = _new_case(escalation, region, uow.clock.now())
    case.lender = loan.lender if loan else None
    repo.add(case)
    await uow.session.flush()
    partner = await _choose_or_none(repo, region)
    if partner is None:
        _await_partner(repo, case, uow.clock.now())
        return case
    await _refer(uow, repo, case, partner.partner_id, policy, note=escalation.reason)
    return case


async def assign_waiting(uow: UnitOfWork, policy: ReferralPolicy, *, limit: int = 100) -> int:
    """Give referrals opened while no partner was available to a partner, now that one may exist;
    each is opened to the bus (LegalCaseOpened) only now, as the contract's event names its partner."""
    repo = LegalRepository(uow.session)
    assigned = 0
    for case in await repo.awaiting_partner(limit=limit):
        partner = await _choose_or_none(repo, case.region)
        if partner is None:
            break  # no partner at all is active: none of the others can be assigned either
        await _refer(uow, repo, case, partner.partner_id, policy, note=case.escalation.get("reason"))
        assigned += 1
    return assigned


def _new_case(escalation: CaseEscalated, region: str, now: datetime) -> LegalCase:
    return LegalCase(
        legal_case_id=legal_case_id_for(escalation.case_id),
        case_id=escalation.case_id,
        loan_id=escalation.loan_id,
        borrower_id=escalation.borrower_id,
        region=region,
        partner_id=None,
        status="referred",
        escalation=escalation.model_dump(mode="json"),
        overdue_amount=escalation.overdue_amount,
        currency=escalation.currency,
        opened_at=now,
        updated_at=now,
    )


async def _refer(
    uow: UnitOfWork,
    repo: LegalRepository,
    case: LegalCase,
    partner_id: str,
    policy: ReferralPolicy,
    *,
    note: str | None,
) -> None:
    now = uow.clock.now()
    case.partner_id, case.assigned_at, case.accept_by = partner_id, now, now + policy.acceptance_deadline
    case.updated_at = now
    await _assign(uow, repo, case, partner_id, action="referred", note=note)
    uow.emit("LegalCaseOpened", LegalCaseOpened(**_event_fields(case, now)))


def _await_partner(repo: LegalRepository, case: LegalCase, now: datetime) -> None:
    note = f"no partner is available for region {case.region}; the referral waits for one"
    _audit(repo, case, SYSTEM, now, action="awaiting-partner", from_status=None, note=note)
    log.warning("referral %s opened without a partner: %s", case.legal_case_id, note)


async def _choose_or_none(repo: LegalRepository, region: str) -> Candidate | None:
    try:
        return await _choose(repo, region)
    except NoPartner:
        return None


async def _choose(repo: LegalRepository, region: str, exclude: frozenset[str] = frozenset()) -> Candidate:
    try:
        return choose_partner(await repo.candidates(), region, exclude=exclude)
    except NoPartnerAvailable as error:
        raise NoPartner(str(error)) from None


async def _assign(
    uow: UnitOfWork, repo: LegalRepository, case: LegalCase, partner_id: str, *, action: str, note: str | None
) -> None:
    now = uow.clock.now()
    await repo.record_assignment(partner_id)
    _audit(repo, case, SYSTEM, now, action=action, from_status=None, note=note)
    detail = f"new referral of loan {case.loan_id}; please accept by {case.accept_by.isoformat()}"
    _notify(repo, case, partner_id, "referral", detail, now)


async def change_status(
    uow: UnitOfWork,
    legal_case_id: str,
    target: str,
    *,
    actor: str,
    note: str | None = None,
    partner_id: str | None = None,
) -> LegalCase:
    """Move a referral along its lifecycle; an illegal move is refused with the lifecycle's reason."""
    repo = LegalRepository(uow.session)
    case = await repo.get(legal_case_id, for_update=True)
    if case is None:
        raise NotFound(f"no legal case {legal_case_id}")
    if case.partner_id is None and target not in lifecycle.EXITS:
        raise Conflict(f"no partner has the referral yet; it can only be {' or '.join(lifecycle.EXITS)}")
    if partner_id is not None and partner_id != case.partner_id:
        # A partner that let the deadline pass must not accept a referral now with another partner.
        raise Conflict(f"the referral is with partner {case.partner_id}, not {partner_id}")
    if target == "filed" and lifecycle.is_open(case.status):
        note = await _cite_the_file(repo, case, uow.clock.now(), note)
    await apply_move(uow, repo, case, target, actor=actor, note=note)
    return case


async def _cite_the_file(repo: LegalRepository, case: LegalCase, at: datetime, note: str | None) -> str:
    """What goes to court is fixed in the audit trail: GET .../file?as_of=<at> shows that very file."""
    bundle = await bundle_of(repo, case, at)
    cited = f"filed with evidence file {bundle['file_digest']} as of {at.isoformat()}"
    return f"{note}; {cited}" if note else cited


async def apply_move(
    uow: UnitOfWork, repo: LegalRepository, case: LegalCase, target: str, *, actor: str, note: str | None
) -> None:
    now = uow.clock.now()
    try:
        move = lifecycle.move(case.status, target, actor=actor, at=now, note=note)
    except lifecycle.IllegalMove as refused:
        raise Conflict(refused.reason) from None
    case.status, case.updated_at = move.to_status, now
    _audit(repo, case, actor, now, action="status", from_status=move.from_status, note=note)
    if case.partner_id is None:
        return  # never opened to a partner nor on the bus (LegalCaseOpened names one): nobody to tell
    if move.to_status in lifecycle.EXITS:
        _notify(repo, case, case.partner_id, move.to_status, note or f"the referral is {move.to_status}", now)
    uow.emit("LegalCaseUpdated", LegalCaseUpdated(**_event_fields(case, now)))


async def reassign(uow: UnitOfWork, case: LegalCase, policy: ReferralPolicy) -> None:
    """Give a referral its partner did not accept in time to another partner. When no other partner
    is left, the same partner keeps it with a new deadline, so the sweep does not spin on it."""
    repo = LegalRepository(uow.session)
    lapsed, now = case.partner_id, uow.clock.now()
    partner = await _next_partner(repo, case)
    case.assigned_at, case.accept_by, case.updated_at = now, now + policy.acceptance_deadline, now
    if partner is None:
        _audit(
            repo, case, SYSTEM, now, action="deadline-extended", from_status=None, note="no other partner is available"
        )
        return
    case.partner_id = partner
    _notify(
        repo, case, lapsed, "reassigned", "the acceptance deadline passed; the referral went to another partner", now
    )
    await _assign(uow, repo, case, partner, action="reassigned", note=f"{lapsed} did not accept before the deadline")
    uow.emit("LegalCaseUpdated", LegalCaseUpdated(**_event_fields(case, now)))
    log.info("referral %s re-assigned from %s to %s", case.legal_case_id, lapsed, partner)


async def _next_partner(repo: LegalRepository, case: LegalCase) -> str | None:
    # Prefer a partner that never had this referral; failing that, anyone but the one who let it lapse.
    for exclude in (await repo.partners_tried(case.legal_case_id) | {case.partner_id}, frozenset({case.partner_id})):
        try:
            return (await _choose(repo, case.region, exclude)).partner_id
        except NoPartner:
            continue
    return None


def _audit(
    repo: LegalRepository,
    case: LegalCase,
    actor: str,
    at: datetime,
    *,
    action: str,
    from_status: str | None,
    note: str | None,
) -> None:
    repo.add(
        AuditEntry(
            legal_case_id=case.legal_case_id,
            at=at,
            actor=actor,
            action=action,
            from_status=from_status,
            to_status=case.status,
            partner_id=case.partner_id,
            note=note,
        )
    )


def _notify(repo: LegalRepository, case: LegalCase, partner_id: str, kind: str, detail: str, at: datetime) -> None:
    """Kept until delivered; listed with the referral, so what a partner was told can be shown."""
    notice = PartnerNotice(
        legal_case_id=case.legal_case_id, partner_id=partner_id, kind=kind, detail=detail, created_at=at
    )
    repo.add(notice)


def _event_fields(case: LegalCase, at: datetime) -> dict:
    return {
        "legal_case_id": case.legal_case_id,
        "case_id": case.case_id,
        "loan_id": case.loan_id,
        "partner_id": case.partner_id,
        "status": case.status,
        "occurred_at": at,
    }
