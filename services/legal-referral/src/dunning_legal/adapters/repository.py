"""Every query of the service. Handlers and routes call these; none of them commits."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_legal.adapters.orm import (
    AuditEntry,
    CaseEventEntry,
    ContactAttempt,
    LegalCase,
    Loan,
    OverdueEntry,
    Partner,
    PartnerNotice,
)
from dunning_legal.domain.assignment import Candidate
from dunning_legal.domain.lifecycle import OPEN
from dunning_platform.db import written_out


class LegalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Loans, as learnt from the bus

    async def lock_loan(self, loan_id: str) -> Loan:
        """The loan row, created when first heard of, locked until the transaction ends."""
        await self.session.execute(insert(Loan).values(loan_id=loan_id).on_conflict_do_nothing())
        query = select(Loan).where(Loan.loan_id == loan_id).with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(query)).scalar_one()

    async def loan(self, loan_id: str) -> Loan | None:
        return await self.session.get(Loan, loan_id)

    def add(self, row: object) -> None:
        self.session.add(row)

    async def overdue_history(self, loan_id: str, *, as_of: datetime) -> list[OverdueEntry]:
        query = (
            select(OverdueEntry)
            .where(OverdueEntry.loan_id == loan_id, OverdueEntry.recorded_at <= as_of)
            .order_by(OverdueEntry.occurred_at, OverdueEntry.id)
        )
        return list((await self.session.execute(query)).scalars())

    async def contact_attempts(self, loan_id: str, *, as_of: datetime) -> list[ContactAttempt]:
        query = (
            select(ContactAttempt)
            .where(ContactAttempt.loan_id == loan_id, ContactAttempt.recorded_at <= as_of)
            .order_by(ContactAttempt.occurred_at, ContactAttempt.id)
        )
        return list((await self.session.execute(query)).scalars())

    async def add_agent_contact(self, contact: ContactAttempt) -> None:
        """A task's contact once: the same call reported again, even in a new envelope, adds no row."""
        columns = [column.key for column in ContactAttempt.__table__.columns if column.key != "id"]
        statement = insert(ContactAttempt).values({key: getattr(contact, key) for key in columns})
        unique_task = {"index_elements": [ContactAttempt.task_id], "index_where": ContactAttempt.task_id.is_not(None)}
        await self.session.execute(statement.on_conflict_do_nothing(**unique_task))

    async def case_events(self, loan_id: str, *, as_of: datetime) -> list[CaseEventEntry]:
        query = (
            select(CaseEventEntry)
            .where(CaseEventEntry.loan_id == loan_id, CaseEventEntry.recorded_at <= as_of)
            .order_by(CaseEventEntry.occurred_at, CaseEventEntry.id)
        )
        return list((await self.session.execute(query)).scalars())

    # Partners

    async def candidates(self) -> list[Candidate]:
        """Active partners with their count of open referrals."""
        load = (
            select(LegalCase.partner_id, func.count().label("open_referrals"))
            .where(LegalCase.status.in_(OPEN))
            .group_by(LegalCase.partner_id)
            .subquery()
        )
        # Re-read the partners: an assignment earlier in this transaction moved one back in the round robin.
        query = (
            select(Partner, func.coalesce(load.c.open_referrals, 0))
            .outerjoin(load, load.c.partner_id == Partner.partner_id)
            .where(Partner.active)
            .execution_options(populate_existing=True)
        )
        return [_candidate(partner, count) for partner, count in (await self.session.execute(query)).all()]

    async def partner(self, partner_id: str) -> Partner | None:
        return await self.session.get(Partner, partner_id)

    async def partners(self) -> list[tuple[Partner, int]]:
        candidates = {c.partner_id: c.open_referrals for c in await self.candidates()}
        rows = (await self.session.execute(select(Partner).order_by(Partner.partner_id))).scalars()
        return [(p, candidates.get(p.partner_id, 0)) for p in rows]

    async def save_partner(self, partner_id: str, fields: dict) -> Partner:
        partner = await self.session.get(Partner, partner_id, with_for_update=True)
        if partner is None:
            partner = Partner(partner_id=partner_id, last_assigned_seq=0)
            self.session.add(partner)
        for name, value in fields.items():
            setattr(partner, name, value)
        await self.session.flush()
        return partner

    async def open_referrals_of(self, partner_id: str) -> int:
        query = select(func.count()).where(LegalCase.partner_id == partner_id, LegalCase.status.in_(OPEN))
        return (await self.session.execute(query)).scalar_one()

    async def record_assignment(self, partner_id: str) -> None:
        """Move the partner to the back of the round-robin queue."""
        next_seq = text("nextval('assignment_seq')")
        await self.session.execute(
            update(Partner).where(Partner.partner_id == partner_id).values(last_assigned_seq=next_seq)
        )

    # Referrals

    async def case_for_collection_case(self, case_id: str) -> LegalCase | None:
        return (await self.session.execute(select(LegalCase).where(LegalCase.case_id == case_id))).scalar_one_or_none()

    async def open_cases_of_loan(self, loan_id: str) -> list[LegalCase]:
        query = (
            select(LegalCase)
            .where(LegalCase.loan_id == loan_id, LegalCase.status.in_(OPEN))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return list((await self.session.execute(query)).scalars())

    async def get(self, legal_case_id: str, *, for_update: bool = False) -> LegalCase | None:
        query = select(LegalCase).where(LegalCase.legal_case_id == legal_case_id)
        if for_update:
            # A row read earlier in this session must be re-read once locked, or its status may be stale.
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def search(self, filters: "CaseFilters", *, limit: int, offset: int) -> list[LegalCase]:
        query = (
            select(LegalCase).where(*filters.conditions()).order_by(LegalCase.opened_at.desc(), LegalCase.legal_case_id)
        )
        return list((await self.session.execute(query.limit(limit).offset(offset))).scalars())

    async def awaiting_acceptance_past(self, now: datetime, *, limit: int = 100) -> list[LegalCase]:
        """Referrals whose partner let the acceptance deadline pass; replicas share them without overlap."""
        query = (
            select(LegalCase)
            .where(LegalCase.status == written_out("referred"), LegalCase.accept_by <= now)
            .order_by(LegalCase.accept_by)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.execute(query)).scalars())

    async def awaiting_partner(self, *, limit: int) -> list[LegalCase]:
        """Referrals opened while no partner was available, oldest first; replicas share them without overlap."""
        query = (
            select(LegalCase)
            .where(LegalCase.partner_id.is_(None), LegalCase.status == written_out("referred"))
            .order_by(LegalCase.opened_at, LegalCase.legal_case_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.execute(query)).scalars())

    async def partners_tried(self, legal_case_id: str) -> frozenset[str]:
        query = select(AuditEntry.partner_id).where(
            AuditEntry.legal_case_id == legal_case_id, AuditEntry.action.in_(("referred", "reassigned"))
        )
        return frozenset((await self.session.execute(query)).scalars())

    async def audit_trail(self, legal_case_id: str) -> list[AuditEntry]:
        query = select(AuditEntry).where(AuditEntry.legal_case_id == legal_case_id).order_by(AuditEntry.id)
        return list((await self.session.execute(query)).scalars())

    async def notices(self, legal_case_id: str) -> list[PartnerNotice]:
        query = select(PartnerNotice).where(PartnerNotice.legal_case_id == legal_case_id).order_by(PartnerNotice.id)
        return list((await self.session.execute(query)).scalars())

    async def partner_notices(self, partner_id: str | None, *, pending: bool, limit: int) -> list[PartnerNotice]:
        query = select(PartnerNotice).order_by(PartnerNotice.id).limit(limit)
        if partner_id is not None:
            query = query.where(PartnerNotice.partner_id == partner_id)
        if pending:
            query = query.where(PartnerNotice.sent_at.is_(None))
        return list((await self.session.execute(query)).scalars())

    async def notice(self, notice_id: int) -> PartnerNotice | None:
        return await self.session.get(PartnerNotice, notice_id, with_for_update=True)

    async def fill_lender(self, loan_id: str, lender: str) -> None:
        """Referrals opened before we heard of the loan's lender learn it now."""
        await self.session.execute(
            update(LegalCase).where(LegalCase.loan_id == loan_id, LegalCase.lender.is_(None)).values(lender=lender)
        )


@dataclass(frozen=True)
class CaseFilters:
    loan_id: str | None = None
    status: str | None = None
    partner_id: str | None = None
    lender: str | None = None
    opened_after: datetime | None = None
    opened_before: datetime | None = None
    # From the age filters: opened at or before this time (min age) / strictly after it (max age).
    opened_by: datetime | None = None
    opened_since: datetime | None = None
    # True: only referrals waiting for a partner; False: only those with one.
    unassigned: bool | None = None
    # The lender a lender-bound token is held to, on top of any lender asked for.
    visible_lender: str | None = None

    def conditions(self) -> list:
        equal = {"loan_id": self.loan_id, "status": self.status, "partner_id": self.partner_id, "lender": self.lender}
        conditions = [getattr(LegalCase, name) == value for name, value in equal.items() if value is not None]
        if self.visible_lender is not None:
            conditions.append(LegalCase.lender == self.visible_lender)
        if self.unassigned is not None:
            conditions.append(LegalCase.partner_id.is_(None) if self.unassigned else LegalCase.partner_id.is_not(None))
        return conditions + self._time_conditions()

    def _time_conditions(self) -> list:
        bounds = (
            (self.opened_after, LegalCase.opened_at.__ge__),
            (self.opened_before, LegalCase.opened_at.__lt__),
            (self.opened_by, LegalCase.opened_at.__le__),
            (self.opened_since, LegalCase.opened_at.__gt__),
        )
        return [compare(bound) for bound, compare in bounds if bound is not None]


def _candidate(partner: Partner, open_referrals: int) -> Candidate:
    return Candidate(
        partner_id=partner.partner_id,
        regions=frozenset(partner.regions),
        capacity=partner.capacity,
        open_referrals=open_referrals,
        last_assigned_seq=partner.last_assigned_seq,
    )
