"""The ingestion service: repayment events in (Kafka and HTTP), the loan ledger, LoanOverdue out."""

from dataclasses import replace

from fastapi import FastAPI

from dunning_contracts import Topics
from dunning_ingestion.adapters.orm import SCHEMA, tables
from dunning_ingestion.config import Settings, get_settings
from dunning_ingestion.domain.policy import LedgerPolicy, Policies
from dunning_ingestion.entrypoints.http import router
from dunning_ingestion.entrypoints.loops import aging_sweep
from dunning_ingestion.handlers import CONSUMED
from dunning_ingestion.unit_of_work import IngestionRuntime
from dunning_messaging import ConsumerSpec
from dunning_platform.clock import Clock
from dunning_platform.http import create_app


def policies_of(settings: Settings) -> Policies:
    default = LedgerPolicy(
        default_penalty_rate_daily=settings.default_penalty_rate_daily,
        penalty_cap_annual=settings.penalty_cap_annual,
        default_grace_days=settings.default_grace_days,
    )
    by_lender = {
        lender: replace(default, **{k: v for k, v in own.model_dump().items() if v is not None})
        for lender, own in settings.lenders.items()
    }
    return Policies(default, by_lender)


def consumers_of(settings: Settings) -> list[ConsumerSpec]:
    """Several members of one consumer group: each takes its share of the topic's partitions, and while
    one waits for PostgreSQL another applies its batch."""
    spec = ConsumerSpec("ingestion", [Topics.REPAYMENT_EVENTS], CONSUMED, reject_unknown_types=True)
    return [spec] * settings.kafka_consumers


def create_service_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    # An injected clock cannot cross into another process: on one, all consuming stays in this process.
    workers = settings.consumer_processes - 1 if clock is None else 0
    runtime = _runtime(settings, background=[aging_sweep], clock=clock, workers=workers)
    return create_app(title="ingestion", settings=settings, routers=[router], runtime=runtime)


def worker_runtime(settings: Settings) -> IngestionRuntime:
    """What a consumer process runs (workers.py): the consumers and the outbox relay, no sweep."""
    return _runtime(settings, background=[], clock=None, workers=0)


def _runtime(settings: Settings, *, background: list, clock: Clock | None, workers: int) -> IngestionRuntime:
    return IngestionRuntime(
        settings,
        tables,
        service="ingestion",
        schema=SCHEMA,
        consumers=consumers_of(settings),
        produces=[Topics.REPAYMENT_EVENTS, Topics.LOAN_OVERDUE],
        background=background,
        clock=clock,
        policies=policies_of(settings),
        workers=workers,
    )


def __getattr__(name: str):
    if name == "app":
        return create_service_app()
    raise AttributeError(name)
