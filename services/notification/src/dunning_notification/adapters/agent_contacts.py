"""Agents' calls and field visits (the scheduler's ContactAttempted), kept for the guard's counts."""

from datetime import datetime

from sqlalchemy import Boolean, Index, Text, any_, bindparam, delete, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from dunning_contracts.events import ContactAttempted
from dunning_notification.adapters.orm import Aware, Base, Loan
from dunning_notification.domain.history import PastContact, agent_contact


class AgentContact(Base):
    __tablename__ = "agent_contacts"
    __table_args__ = (Index("ix_agent_contacts_borrower", "borrower_id", "occurred_at"),)

    task_id: Mapped[str] = mapped_column(Text, primary_key=True)
    case_id: Mapped[str] = mapped_column(Text)
    loan_id: Mapped[str] = mapped_column(Text)
    borrower_id: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)
    connected: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(Aware)


async def borrower_of(session: AsyncSession, contact: ContactAttempted) -> str | None:
    """The borrower the event names, else the one of the loan's booking."""
    if contact.borrower_id:
        return contact.borrower_id
    return await session.scalar(select(Loan.borrower_id).where(Loan.loan_id == contact.loan_id))


async def save_agent_contact(session: AsyncSession, contact: ContactAttempted, borrower_id: str) -> None:
    values = contact.model_dump(include={"task_id", "case_id", "loan_id", "channel", "connected", "outcome", "occurred_at"})
    await session.execute(insert(AgentContact).values(values | {"borrower_id": borrower_id}).on_conflict_do_nothing())


async def forget_before(session: AsyncSession, borrower_id: str, before: datetime) -> None:
    """The guard looks back 8 days; the scheduler keeps the record of the agents' work."""
    table = AgentContact
    await session.execute(delete(table).where(table.borrower_id == borrower_id, table.occurred_at < before))


async def agent_contacts(session: AsyncSession, borrower_ids: set[str], since: datetime) -> dict[str, list[PastContact]]:
    found: dict[str, list[PastContact]] = {}
    rows = await session.execute(RECENT_AGENT_CONTACTS, {"borrowers": sorted(borrower_ids), "since": since})
    for borrower_id, channel, occurred_at, connected in rows:
        found.setdefault(borrower_id, []).extend(agent_contact(channel, occurred_at, connected))
    return found


_table = AgentContact.__table__
# One array parameter, not one per borrower: this runs for every dispatch batch, mostly finding nothing.
# Table columns, not the mapped class's: plain rows, without the ORM's loading of each one.
RECENT_AGENT_CONTACTS = select(_table.c.borrower_id, _table.c.channel, _table.c.occurred_at, _table.c.connected).where(
    _table.c.borrower_id == any_(bindparam("borrowers", type_=ARRAY(Text))),
    _table.c.occurred_at >= bindparam("since", type_=Aware),
)
