"""Background loops of ingestion."""

import logging

from dunning_ingestion.aging import run_aging_sweep, sweep_is_due

log = logging.getLogger(__name__)


async def aging_sweep(runtime) -> None:
    """Checks now and then whether today's sweep is due; the clock is the runtime's, so tests move it."""
    while not await runtime.sleep_or_stop(runtime.settings.aging_sweep_poll_seconds):
        try:
            if await sweep_is_due(runtime):
                await run_aging_sweep(runtime)
        except Exception:
            log.exception("aging sweep failed; it will be tried again")
