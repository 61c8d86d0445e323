"""The garbage collector waits while a unit of work runs, and resumes when the one that paused it ends.

Plain functions with their own event loop: no task of another test's runtime runs meanwhile, so the
collector's state is this test's alone (it is put back as it was found)."""

import asyncio
import gc

from sqlalchemy import MetaData

from dunning_messaging.tables import messaging_tables
from dunning_messaging.uow import UnitOfWork
from dunning_platform.clock import SystemClock


class QuietSession:
    async def rollback(self) -> None:
        pass

    async def close(self) -> None:
        pass


def unit_of_work() -> UnitOfWork:
    return UnitOfWork(QuietSession, messaging_tables(MetaData(schema="uowtest")), source="urn:test:uow", clock=SystemClock())


async def nested() -> list[bool]:
    seen = []
    async with unit_of_work():
        seen.append(gc.isenabled())
        async with unit_of_work():  # one alongside finds them paused and leaves them to the first
            seen.append(gc.isenabled())
        seen.append(gc.isenabled())
    seen.append(gc.isenabled())
    return seen


async def failing() -> None:
    async with unit_of_work():
        raise RuntimeError("the handler broke")


def test_collections_wait_while_units_of_work_run_and_resume_when_the_first_ends():
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        assert asyncio.run(nested()) == [False, False, False, True]
    finally:
        gc.enable() if was_enabled else gc.disable()


def test_collections_resume_when_a_unit_of_work_fails():
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        try:
            asyncio.run(failing())
        except RuntimeError:
            pass
        assert gc.isenabled()
    finally:
        gc.enable() if was_enabled else gc.disable()
