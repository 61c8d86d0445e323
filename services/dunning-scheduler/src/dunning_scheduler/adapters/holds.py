"""Looking up one hold of a case to release it, and counting the promises cases kept."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dunning_scheduler.adapters.arrays import among
from dunning_scheduler.adapters.orm import Hold, Promise


class HoldLookup:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_case(self, case_id: uuid.UUID, hold_id: uuid.UUID) -> Hold | None:
        query = select(Hold).where(Hold.id == hold_id, Hold.case_id == case_id).with_for_update()
        return await self.session.scalar(query)

    async def for_case(self, case_id: uuid.UUID) -> list[Hold]:
        query = select(Hold).where(Hold.case_id == case_id).order_by(Hold.created_at)
        return list(await self.session.scalars(query))


async def kept_promises(session: AsyncSession, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not case_ids:
        return {}
    query = (
        select(Promise.case_id, func.count())
        .where(among(Promise.case_id, case_ids), Promise.status == "kept")
        .group_by(Promise.case_id)
    )
    return {case_id: count for case_id, count in (await session.execute(query)).all()}
