"""The dunning scheduler: cases, the policy, durable timers, promises and holds."""

from fastapi import FastAPI

from dunning_contracts import Topics
from dunning_messaging import ConsumerSpec, Runtime
from dunning_platform.clock import Clock
from dunning_platform.http import create_app
from dunning_scheduler.adapters.orm import SCHEMA, tables
from dunning_scheduler.config import Settings, get_settings
from dunning_scheduler.entrypoints.agent_http import agent_router
from dunning_scheduler.entrypoints.http import cases_router, loans_router, policy_router
from dunning_scheduler.entrypoints.loops import timer_workers
from dunning_scheduler.handlers import HANDLERS
from dunning_scheduler.voice_reminders import cannot_be_voice

SERVICE = "dunning-scheduler"


def create_service_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = Runtime(
        settings,
        tables,
        service=SERVICE,
        schema=SCHEMA,
        consumers=[consumer_spec()],
        produces=[Topics.REMINDER_REQUESTED, Topics.CASE_ESCALATED, Topics.CASE_EVENTS],
        background=timer_workers(settings.timer_workers),
        clock=clock,
    )
    return create_app(title=SERVICE, settings=settings, routers=[cases_router, policy_router, agent_router, loans_router], runtime=runtime)


def consumer_spec() -> ConsumerSpec:
    """LoanBooked shares its topic with payments; only the types in HANDLERS are taken, the rest skipped.
    A loan's events come on three topics, whose partitions replicas may hold apart: each transaction
    locks its loans first, so one loan's LoanBooked, LoanOverdue and payments apply one at a time.
    Of notification's reports only the voice reminders count here: the others are left unread."""
    topics = [Topics.LOAN_OVERDUE, Topics.REPAYMENT_EVENTS, Topics.REMINDER_SENT]
    unread = {Topics.REMINDER_SENT: cannot_be_voice}
    return ConsumerSpec("dunning-scheduler", topics, HANDLERS, lock_keys=True, unread=unread)


def __getattr__(name: str):
    if name == "app":
        return create_service_app()
    raise AttributeError(name)
