"""Background work: the acceptance deadline sweep, which also assigns referrals waiting for a partner."""

import logging

from dunning_legal.adapters.repository import LegalRepository
from dunning_legal.referrals import ReferralPolicy, assign_waiting, reassign

log = logging.getLogger(__name__)


def acceptance_sweep(policy: ReferralPolicy, interval_seconds: float):
    """A background loop re-assigning referrals whose partner let the acceptance deadline pass, and giving
    a partner to those opened while none was available (a partner may have come back, e.g. re-activated)."""

    async def acceptance_deadline_sweep(runtime) -> None:
        while not await runtime.sleep_or_stop(interval_seconds):
            try:
                await assign_unassigned(runtime, policy)
                await reassign_lapsed(runtime, policy)
            except Exception:
                log.exception("acceptance deadline sweep failed; trying again at the next tick")

    return acceptance_deadline_sweep


async def reassign_lapsed(runtime, policy: ReferralPolicy) -> int:
    async with runtime.uow() as uow:
        lapsed = await LegalRepository(uow.session).awaiting_acceptance_past(uow.clock.now())
        for case in lapsed:
            await reassign(uow, case, policy)
        await uow.commit()
    return len(lapsed)


async def assign_unassigned(runtime, policy: ReferralPolicy) -> int:
    async with runtime.uow() as uow:
        assigned = await assign_waiting(uow, policy)
        await uow.commit()
    return assigned
