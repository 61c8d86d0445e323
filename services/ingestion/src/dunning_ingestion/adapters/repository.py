"""Reads of one loan for the API; the batch's loads and saves live in ledger_store.py."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_ingestion.adapters.orm import InstallmentRow, LoanRow
from dunning_ingestion.adapters.rows import loan_of
from dunning_ingestion.domain.ledger import InstallmentLedger, Ledger
from dunning_ingestion.domain.loan import Loan
from dunning_ingestion.domain.terms import ScheduledInstallment

LOANS = LoanRow.__table__
INSTALLMENTS = InstallmentRow.__table__
_STATE = ("principal_paid", "interest_paid", "penalty_paid", "penalty_accrued", "accrued_through")


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_with_ledger(self, loan_id: str) -> tuple[Loan, Ledger] | None:
        """The loan and its stored ledger, as of the last event or sweep that touched it."""
        row = (await self.session.execute(select(LOANS).where(LOANS.c.loan_id == loan_id))).first()
        if row is None:
            return None
        query = select(INSTALLMENTS).where(INSTALLMENTS.c.loan_id == loan_id).order_by(INSTALLMENTS.c.due_date, INSTALLMENTS.c.seq)
        installments = (await self.session.execute(query)).all()
        schedule = [ScheduledInstallment(i.seq, i.due_date, i.principal_due, i.interest_due) for i in installments]
        ledger = Ledger([_installment(i) for i in installments], credit=row.credit_balance)
        return loan_of(row._mapping, schedule), ledger


def _installment(row) -> InstallmentLedger:
    return InstallmentLedger(
        row.seq, row.due_date, row.principal_due, row.interest_due, **{name: getattr(row, name) for name in _STATE}
    )
