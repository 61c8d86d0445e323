"""Queries of repayment plans, of a loan's own history, and of the notices planned for a loan."""

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_platform.db import written_out
from dunning_scheduler.adapters.arrays import among
from dunning_scheduler.adapters.orm import LoanHistoryEntry, RepaymentPlan, Timer


class PlanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, plan: RepaymentPlan) -> None:
        self.session.add(plan)

    async def active(self, case_id: uuid.UUID) -> RepaymentPlan | None:
        query = select(RepaymentPlan).where(RepaymentPlan.case_id == case_id, RepaymentPlan.status == written_out("active"))
        return await self.session.scalar(query)

    async def active_of_cases(self, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, RepaymentPlan]:
        query = select(RepaymentPlan).where(among(RepaymentPlan.case_id, case_ids), RepaymentPlan.status == written_out("active"))
        return {plan.case_id: plan for plan in await self.session.scalars(query)} if case_ids else {}

    async def for_case(self, case_id: uuid.UUID) -> list[RepaymentPlan]:
        query = select(RepaymentPlan).where(RepaymentPlan.case_id == case_id).order_by(RepaymentPlan.created_at)
        return list(await self.session.scalars(query))


class LoanHistory:
    """Decisions about a loan that no case records: it has none yet, or its cases are resolved."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def record(self, loan_id: str, at: datetime, kind: str, reason: str, details: dict | None = None) -> None:
        self.session.add(LoanHistoryEntry(loan_id=loan_id, at=at, kind=kind, reason=reason, details=details or {}))

    async def of(self, loan_id: str) -> list[LoanHistoryEntry]:
        query = select(LoanHistoryEntry).where(LoanHistoryEntry.loan_id == loan_id).order_by(LoanHistoryEntry.id)
        return list(await self.session.scalars(query))


class LoanNotices:
    """Notices planned for a loan outside any case (their timers name no case)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def already_planned(self, loan_id: str, template: str, seq: int, failed_at: datetime) -> bool:
        """A notice about this instalment still waiting, or one already made for this very failure."""
        payload = Timer.payload
        same_failure = payload["failed_at"].astext == failed_at.isoformat()
        query = select(func.count()).where(
            Timer.loan_id == loan_id,
            Timer.case_id.is_(None),
            payload["template"].astext == template,
            payload["installment_seq"].astext == str(seq),
            (Timer.status == "pending") | same_failure,
        )
        return (await self.session.scalar(query)) > 0
