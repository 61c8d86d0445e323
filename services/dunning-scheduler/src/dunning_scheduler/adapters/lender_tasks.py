"""The agent queue as a token bound to one lender sees it: only tasks of that lender's cases (claiming,
for all tokens, is adapters/agent_queue.py)."""

from sqlalchemy import select
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

    async def belongs(self, task: AgentTask) -> bool:
        return await self.session.scalar(select(Case.lender).where(Case.id == task.case_id)) == self.lender
