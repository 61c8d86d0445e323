"""The agent queue as a token bound to one lender sees it: only tasks of that lender's cases."""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_scheduler.adapters.orm import AgentTask, Case

ORDER = (AgentTask.risk_points.desc(), AgentTask.overdue_amount.desc(), AgentTask.created_at)


class LenderTasks:
    def __init__(self, session: AsyncSession, lender: str) -> None:
        self.session = session
        self.lender = lender

    def of_lender(self):
        return AgentTask.case_id.in_(select(Case.id).where(Case.lender == self.lender))

    async def queue(self, kind: str | None, limit: int) -> list[AgentTask]:
        query = select(AgentTask).where(AgentTask.status == "queued", self.of_lender())
        query = query.where(AgentTask.kind == kind) if kind else query
        return list(await self.session.scalars(query.order_by(*ORDER).limit(limit)))

    async def claim(self, kinds: list[str], agent: str, now: datetime, limit: int) -> list[AgentTask]:
        """As AgentTaskRepository.claim, within the lender's cases."""
        top = (
            select(AgentTask.id)
            .where(AgentTask.status == "queued", AgentTask.kind.in_(kinds), self.of_lender())
            .order_by(*ORDER)
            .limit(limit)
            .with_for_update(of=AgentTask, skip_locked=True)
            .scalar_subquery()
        )
        statement = (
            update(AgentTask)
            .where(AgentTask.id.in_(top))
            .values(status="claimed", claimed_by=agent, claimed_at=now)
            .returning(AgentTask)
            .execution_options(synchronize_session=False)
        )
        claimed = list(await self.session.scalars(statement))
        return sorted(claimed, key=lambda t: (-t.risk_points, -t.overdue_amount, t.created_at))

    async def belongs(self, task: AgentTask) -> bool:
        return await self.session.scalar(select(Case.lender).where(Case.id == task.case_id)) == self.lender
