"""The legal-referral service: FastAPI app, its consumer and its acceptance deadline sweep."""

from datetime import timedelta

from fastapi import FastAPI

from dunning_contracts import Topics
from dunning_legal.adapters.orm import SCHEMA, tables
from dunning_legal.adapters.pii import NameVault
from dunning_legal.config import Settings, get_settings
from dunning_legal.entrypoints import http
from dunning_legal.entrypoints.loops import acceptance_sweep
from dunning_legal.handlers import bound_handlers
from dunning_legal.referrals import ReferralPolicy
from dunning_messaging import ConsumerSpec, Runtime
from dunning_platform.clock import Clock
from dunning_platform.http import create_app

CONSUMED = [
    Topics.CASE_ESCALATED,
    Topics.LOAN_OVERDUE,
    Topics.REMINDER_SENT,
    Topics.REPAYMENT_EVENTS,
    Topics.CASE_EVENTS,
]


def referral_policy(settings: Settings) -> ReferralPolicy:
    pii_key = settings.pii_key.get_secret_value() if settings.pii_key else None
    return ReferralPolicy(
        default_region=settings.default_region,
        acceptance_deadline=timedelta(hours=settings.acceptance_deadline_hours),
        names=NameVault(pii_key),
    )


def create_service_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    policy = referral_policy(settings)
    runtime = Runtime(
        settings,
        tables,
        service="legal-referral",
        schema=SCHEMA,
        consumers=[ConsumerSpec("legal-referral", CONSUMED, bound_handlers(policy))],
        produces=[Topics.LEGAL_CASE],
        background=[acceptance_sweep(policy, settings.reassign_interval_seconds)],
        clock=clock,
    )
    app = create_app(title="legal-referral", settings=settings, routers=[http.router], runtime=runtime)
    app.state.policy = policy
    return app


def __getattr__(name: str):
    # `uvicorn dunning_legal.main:app` builds the app on first access, not at import (tests import freely).
    if name == "app":
        return create_service_app()
    raise AttributeError(name)
