"""The notification service: consumes contact data and reminder requests, sends under the guard."""

from fastapi import FastAPI

from dunning_contracts import Topics
from dunning_messaging.consumer import ConsumerSpec
from dunning_messaging.runtime import Runtime
from dunning_notification.adapters.orm import SCHEMA, tables
from dunning_notification.adapters.template_files import load_catalogue
from dunning_notification.adapters.vault import ContactVault
from dunning_notification.config import Settings, get_settings
from dunning_notification.entrypoints import http, webhooks
from dunning_notification.entrypoints.loops import purge_expired_history, reminder_dispatcher
from dunning_notification.handlers import HANDLERS, bind
from dunning_platform.clock import Clock
from dunning_platform.http import create_app

CONSUMED = [Topics.REPAYMENT_EVENTS, Topics.LOAN_OVERDUE, Topics.REMINDER_REQUESTED, Topics.CASE_EVENTS]


def create_service_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    vault = ContactVault(settings.pii_key.get_secret_value(), seal_with=settings.pii_sealing)
    # Loaded (and linted) now: a template with forbidden wording stops the service before it sends anything.
    catalogue = load_catalogue()
    runtime = Runtime(
        settings,
        tables,
        service="notification",
        schema=SCHEMA,
        consumers=[ConsumerSpec("notification", CONSUMED, bind(HANDLERS, vault=vault))],
        produces=[Topics.REMINDER_SENT],
        background=[reminder_dispatcher(settings, catalogue, vault), purge_expired_history],
        clock=clock,
    )
    app = create_app(title="notification", settings=settings, routers=[http.router, webhooks.router], runtime=runtime)
    app.state.vault = vault
    return app


def __getattr__(name: str):
    if name == "app":
        return create_service_app()
    raise AttributeError(name)
