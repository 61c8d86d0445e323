"""Claiming agent work under the contact rules (domain/agent_contact.py): the queue's top tasks whose
borrower may be contacted now, in the borrower's own time zone and under the call caps of the borrower's
jurisdiction, counting the agents' calls and the voice reminders sent alike."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Time, and_, cast, func, literal, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_platform.db import written_out
from dunning_scheduler.adapters.orm import AgentTask, Case, LoanProfile
from dunning_scheduler.adapters.voice_calls import recent_calls
from dunning_scheduler.domain.agent_contact import (
    LOOKBACK, AgentRules, Borrower, Hours, RuleBook, Wait, rule_book, take, tally, waiting,
)
from dunning_scheduler.domain.borrower import DEFAULT_CONTEXT

ORDER = (AgentTask.risk_points.desc(), AgentTask.overdue_amount.desc(), AgentTask.created_at)
ZONE = func.coalesce(LoanProfile.timezone, DEFAULT_CONTEXT.timezone)
REGION = func.coalesce(LoanProfile.region, DEFAULT_CONTEXT.region)


class AgentQueue:
    def __init__(self, session: AsyncSession, rules: RuleBook, lender: str | None = None) -> None:
        self.session = session
        self.rules = rules
        self.lender = lender

    async def claim(self, kinds: list[str], agent: str, now: datetime, limit: int) -> list[AgentTask]:
        """The top of the queue that may be worked now; tasks another agent is claiming are skipped."""
        claimed: list[AgentTask] = []
        page = max(limit * 4, 20)
        for offset in range(0, page * 5, page):
            rows = await self._candidates(kinds, now, page, offset)
            # Marked page by page, so the next page's count of today's calls includes these.
            claimed += await self._mark_claimed(await self._allowed(rows, now, limit - len(claimed)), agent, now)
            if len(claimed) >= limit or len(rows) < page:
                break
        return sorted(claimed, key=lambda t: (-t.risk_points, -t.overdue_amount, t.created_at))

    async def waits(self, tasks: list[AgentTask], now: datetime) -> dict[uuid.UUID, Wait | None]:
        """Why each queued task is not handed out now (None: it would be)."""
        people = await self._people([t.case_id for t in tasks])
        borrowers = await self._borrowers({b: (z, r) for b, z, r in people.values()}, now)
        return {t.id: self._waiting(t.kind, borrowers[people[t.case_id][0]], now) for t in tasks}

    def _waiting(self, kind: str, borrower: Borrower, now: datetime) -> Wait | None:
        return waiting(self.rules.of(borrower.region), kind, borrower, now)

    async def _candidates(self, kinds: list[str], now: datetime, page: int, offset: int) -> list:
        query = (
            select(AgentTask.id, AgentTask.kind, Case.borrower_id, ZONE, REGION)
            .join(Case, Case.id == AgentTask.case_id)
            .outerjoin(LoanProfile, LoanProfile.loan_id == AgentTask.loan_id)
            .where(AgentTask.status == written_out("queued"), AgentTask.kind.in_(kinds), self._in_hours(now))
        )
        query = query.where(Case.lender == self.lender) if self.lender else query
        query = query.order_by(*ORDER).limit(page).offset(offset).with_for_update(of=AgentTask, skip_locked=True)
        return list((await self.session.execute(query)).all())

    def _in_hours(self, now: datetime):
        # The widest window of any jurisdiction is checked here too, so a night in one time zone does not
        # fill a page with waiting tasks; the borrower's own jurisdiction is applied to what comes back.
        local = cast(func.timezone(ZONE, literal(now)), Time)
        return or_(*(and_(AgentTask.kind == kind, local >= hours.start, local < hours.end)
                     for kind, hours in ((kind, self._widest(kind)) for kind in ("agent_call", "field_visit"))))

    def _widest(self, kind: str) -> Hours:
        every = [rules.hours(kind) for rules in self.rules.by_code.values()]
        return Hours(min(h.start for h in every), max(h.end for h in every))

    async def _allowed(self, rows: list, now: datetime, room: int) -> list[uuid.UUID]:
        callees = sorted({borrower for _, kind, borrower, _, _ in rows if kind == "agent_call"})
        mine = {b for b in callees if await self._try_lock(b)}
        borrowers = await self._borrowers({b: (z, r) for _, _, b, z, r in rows}, now)
        chosen = []
        for task_id, kind, borrower_id, _, _ in rows:
            if len(chosen) == room:
                break
            if (kind != "agent_call" or borrower_id in mine) and self._waiting(kind, borrowers[borrower_id], now) is None:
                take(borrowers[borrower_id], kind, now)
                chosen.append(task_id)
        return chosen

    async def _try_lock(self, borrower_id: str) -> bool:
        """Counting and claiming a borrower's calls is one agent's at a time, so two claims cannot both
        take the last call of the day; a borrower being claimed by another agent is skipped, not waited for."""
        key = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))")
        return bool(await self.session.scalar(key, {"k": f"agent-calls:{borrower_id}"}))

    async def _borrowers(self, places: dict[str, tuple[str, str]], now: datetime) -> dict[str, Borrower]:
        """Each borrower with their time zone, region and the calls the rules count (agents' and voice reminders)."""
        calls = await recent_calls(self.session, list(places), now - LOOKBACK)
        borrowers = {}
        for borrower_id, (zone_name, region) in places.items():
            zone = ZoneInfo(zone_name)
            borrowers[borrower_id] = Borrower(zone, tally(calls.get(borrower_id, []), zone, now), region)
        return borrowers

    async def _people(self, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str, str]]:
        query = (
            select(Case.id, Case.borrower_id, ZONE, REGION)
            .outerjoin(LoanProfile, LoanProfile.loan_id == Case.loan_id)
            .where(Case.id.in_(case_ids))
        )
        return {case_id: (borrower, zone, region) for case_id, borrower, zone, region in await self.session.execute(query)}

    async def _mark_claimed(self, ids: list[uuid.UUID], agent: str, now: datetime) -> list[AgentTask]:
        if not ids:
            return []
        statement = (
            update(AgentTask)
            .where(AgentTask.id.in_(ids))
            .values(status="claimed", claimed_by=agent, claimed_at=now)
            .returning(AgentTask)
            .execution_options(synchronize_session=False)
        )
        return list(await self.session.scalars(statement))


def rules_of(settings, window) -> RuleBook:
    """The settings' CN hours and caps and the US rules of the law, kept inside the policy's contact window."""
    cn = AgentRules(
        call_hours=Hours(settings.agent_call_start, settings.agent_call_end),
        visit_hours=Hours(settings.field_visit_start, settings.field_visit_end),
        attempts_per_day=settings.agent_call_attempts_per_day,
        connected_calls_per_day=settings.agent_connected_calls_per_day,
    )
    return rule_book(cn, Hours(window.start, window.end))
