"""The messaging runtime's unit of work, with what ingestion adds: the batch of
inbound events, applied set-based just before the transaction commits, and the ledger reads."""

import asyncio

from dunning_ingestion.adapters.repository import LedgerRepository
from dunning_ingestion.batch import LedgerBatch
from dunning_ingestion.domain.policy import Policies
from dunning_ingestion.worker_metrics import ServiceMetrics
from dunning_ingestion.workers import Workers
from dunning_messaging import Runtime, UnitOfWork


class LedgerUnitOfWork(UnitOfWork):
    def __init__(self, *args, policies: Policies, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.batch = LedgerBatch(policies)

    @property
    def source(self) -> str:
        return self._source

    async def __aenter__(self) -> "LedgerUnitOfWork":
        await super().__aenter__()
        self.ledgers = LedgerRepository(self.session)
        return self

    async def commit(self) -> None:
        # The consumer hands events over one by one, then commits: that is when the batch is applied.
        await self.batch.apply(self)
        await super().commit()


class IngestionRuntime(Runtime):
    def __init__(self, *args, policies: Policies, workers: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.policies = policies
        self.workers = Workers(self.settings, workers) if workers else None
        # What /metrics serves (dunning_platform.http): with workers, their files merged with this process's.
        self.metrics_source = ServiceMetrics(self.workers.metrics_directory) if self.workers else None

    async def start(self) -> None:
        if self.workers:
            self.workers.start()  # they start up while this process does
        await super().start()

    async def stop(self) -> None:
        if self.workers:
            await asyncio.to_thread(self.workers.stop)
        await super().stop()

    async def ready(self) -> tuple[bool, str]:
        ok, detail = await super().ready()
        problem = self.workers.problem() if ok and self.workers else None
        return (False, problem) if problem else (ok, detail)

    def uow(self) -> LedgerUnitOfWork:
        return LedgerUnitOfWork(
            self.session_factory,
            self.tables,
            source=self.settings.source,
            clock=self.clock,
            on_publish=self.relay.wake,
            sealer=self.sealer,
            signal=self.signal,
            policies=self.policies,
        )
