"""The timer loop: fire what is due, in batches, until the service stops."""

import logging

from dunning_messaging import Runtime
from dunning_scheduler import firing
from dunning_scheduler.casework import TIMERS
from dunning_scheduler.metrics import observe_fired

log = logging.getLogger(__name__)

CHECKPOINTS_PER_ROUND = 100


async def fire_timers(runtime: Runtime) -> None:
    """Runs in every replica; SKIP LOCKED lets them share the due timers without firing one twice."""
    settings = runtime.settings
    while not runtime.stopping.is_set():
        try:
            busy = await fire_round(runtime, settings.timer_batch_size)
        except Exception:
            log.exception("firing timers failed; retrying")
            busy = False
        if not busy and await runtime.wait_for_signal(TIMERS, settings.timer_poll_seconds):
            return


async def fire_round(runtime: Runtime, batch_size: int) -> bool:
    """True when there may be more due at once (a full batch, or checkpoints handled)."""
    async with runtime.uow() as uow:
        fired = await firing.fire_due_actions(uow, batch_size, runtime.settings.source)
        await uow.commit()
    if fired:
        runtime.relay.wake()  # the rows went in by COPY, past the unit of work's own wake-up
    observe_fired(fired, runtime.clock.now())
    return len(fired) >= batch_size or await fire_checkpoints(runtime) > 0


async def fire_checkpoints(runtime: Runtime) -> int:
    async with runtime.uow() as uow:
        due = await firing.due_checkpoints(uow, CHECKPOINTS_PER_ROUND)
    fired = 0
    for timer_id, case_id, loan_id in due:
        async with runtime.uow() as uow:
            fired += await firing.fire_checkpoint(uow, timer_id, case_id, loan_id)
            await uow.commit()
    return fired


def timer_workers(count: int) -> list:
    """`count` loops per replica; more than one helps when emitting, not claiming, is the bottleneck."""
    return [fire_timers] * count
