"""Voice reminders placed to borrowers (from notification's ReminderSent) and the phone calls an agent's
claim counts: the agents' own calls and these reminders together, per borrower."""

from datetime import datetime

from sqlalchemy import Index, Text, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from dunning_scheduler.adapters.arrays import among
from dunning_scheduler.adapters.orm import AgentTask, Base, Case, LoanProfile
from dunning_scheduler.domain.agent_contact import CONNECTED, Call


class VoiceReminderCall(Base):
    """One voice reminder: when it was placed, and when the borrower answered it (a conversation)."""

    __tablename__ = "voice_reminder_calls"
    __table_args__ = (Index("ix_voice_reminder_calls_borrower", "borrower_id", "attempted_at"),)

    reminder_id: Mapped[str] = mapped_column(Text, primary_key=True)
    loan_id: Mapped[str] = mapped_column(Text)
    borrower_id: Mapped[str] = mapped_column(Text)
    attempted_at: Mapped[datetime]
    connected_at: Mapped[datetime | None]


async def save_voice_reminders(session: AsyncSession, rows: list[dict]) -> None:
    """One statement; a later report of a reminder keeps its first attempt and adds the answer."""
    if not rows:
        return
    statement = insert(VoiceReminderCall).values(rows)
    table, new = VoiceReminderCall.__table__.c, statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[table.reminder_id],
        set_={"attempted_at": func.least(table.attempted_at, new.attempted_at),
              "connected_at": func.coalesce(table.connected_at, new.connected_at)},
    )
    await session.execute(statement)


async def forget_voice_reminders(session: AsyncSession, borrower_ids: set[str], before: datetime) -> None:
    """The caps look back 8 days; older voice reminders count for nothing (notification keeps the history)."""
    table = VoiceReminderCall
    await session.execute(delete(table).where(among(table.borrower_id, borrower_ids), table.attempted_at < before))


async def borrowers_of_loans(session: AsyncSession, loan_ids: set[str]) -> dict[str, str]:
    """The borrower of each loan, from its booking, else from a case of it."""
    booked = select(LoanProfile.loan_id, LoanProfile.borrower_id).where(among(LoanProfile.loan_id, loan_ids))
    found = dict((await session.execute(booked)).all())
    missing = loan_ids - found.keys()
    if missing:
        cased = select(Case.loan_id, Case.borrower_id).where(among(Case.loan_id, missing)).distinct()
        found |= dict((await session.execute(cased)).all())
    return found


async def recent_calls(session: AsyncSession, borrower_ids: list[str], since: datetime) -> dict[str, list[Call]]:
    """Agents' calls (claimed or done) and voice reminders per borrower since `since`, across their loans."""
    calls: dict[str, list[Call]] = {}
    for borrower_id, call in await _agent_calls(session, borrower_ids, since) + await _voice_reminders(session, borrower_ids, since):
        calls.setdefault(borrower_id, []).append(call)
    return calls


async def _agent_calls(session: AsyncSession, borrower_ids: list[str], since: datetime) -> list[tuple[str, Call]]:
    # A completed call counts when it ended (when it was reported to the platform), one in progress when claimed.
    at = func.coalesce(AgentTask.completed_at, AgentTask.claimed_at)
    query = (
        select(Case.borrower_id, at, AgentTask.outcome)
        .join(Case, Case.id == AgentTask.case_id)
        .where(
            among(Case.borrower_id, borrower_ids), AgentTask.kind == "agent_call",
            AgentTask.status.in_(("claimed", "completed")), AgentTask.claimed_at > since,
        )
    )
    return [(borrower, Call(when, outcome in CONNECTED)) for borrower, when, outcome in await session.execute(query)]


async def _voice_reminders(session: AsyncSession, borrower_ids: list[str], since: datetime) -> list[tuple[str, Call]]:
    table = VoiceReminderCall
    query = select(table.borrower_id, table.attempted_at, table.connected_at).where(
        among(table.borrower_id, borrower_ids), table.attempted_at > since
    )
    return [(borrower, Call(connected or attempted, connected is not None)) for borrower, attempted, connected in await session.execute(query)]
