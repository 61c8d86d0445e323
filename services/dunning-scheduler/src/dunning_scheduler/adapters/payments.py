"""Queries of the payments received per loan, and of the pauses they can end."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_scheduler.adapters.arrays import among
from dunning_scheduler.adapters.orm import Case, Payment, Promise


class PaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record_many(self, rows: list[dict]) -> set[str]:
        """Store what is new (a redelivered payment_id is skipped); returns the loans that got a payment."""
        if not rows:
            return set()
        statement = insert(Payment).values(rows).on_conflict_do_nothing(index_elements=["payment_id"])
        return set(await self.session.scalars(statement.returning(Payment.loan_id)))

    async def paid_between(self, loan_id: str, currency: str, since: datetime, until: datetime | None = None) -> Decimal:
        """What was paid at or after `since` and, given `until`, before it; in the case's currency only."""
        query = select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.loan_id == loan_id, Payment.currency == currency, Payment.paid_at >= since
        )
        query = query.where(Payment.paid_at < until) if until is not None else query
        return Decimal(await self.session.scalar(query))

    async def loans_with_pending_promises(self, loan_ids: set[str]) -> list[str]:
        """Of these loans, those whose open case waits on a promise: only they need a decision now."""
        query = (
            select(Case.loan_id)
            .join(Promise, Promise.case_id == Case.id)
            .where(among(Case.loan_id, loan_ids), Case.status != "resolved", Promise.status == "pending")
            .distinct()
        )
        return sorted(await self.session.scalars(query))
