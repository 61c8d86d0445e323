"""Background loops of the notification service."""

import logging
from contextlib import AsyncExitStack

import httpx

from dunning_notification.adapters import repository
from dunning_notification.adapters.breaker import CircuitBreaker
from dunning_notification.adapters.channels import ChannelRouter, FailoverChannel, HttpProviderChannel, Route, SmtpChannel
from dunning_notification.adapters.vault import ContactVault
from dunning_notification.adapters.wakeup import Wakeup
from dunning_notification.config import Settings
from dunning_notification.dispatch import Dispatcher
from dunning_notification.domain.templates import TemplateCatalogue

log = logging.getLogger(__name__)


HTTP_CHANNELS = ("sms", "push", "voice", "letter")


def build_channels(settings: Settings, clients: dict[str, httpx.AsyncClient]) -> ChannelRouter:
    """Each channel's providers in order of preference, each behind its own circuit breaker per channel."""
    channels = {channel: FailoverChannel(_http_routes(settings, clients, channel)) for channel in HTTP_CHANNELS}
    smtp = SmtpChannel(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.mail_from,
        timeout=settings.smtp_timeout_s,
        provider=settings.smtp_provider_name,
    )
    channels["email"] = FailoverChannel([Route(settings.smtp_provider_name, smtp, _breaker(settings))])
    return ChannelRouter(channels)


def _http_routes(settings: Settings, clients: dict[str, httpx.AsyncClient], channel: str) -> list[Route]:
    batch_max = _batch_max(settings)
    return [
        Route(
            name,
            HttpProviderChannel(client, channel, name, settings.receipt_url(name), batch_max=batch_max[name]),
            _breaker(settings),
        )
        for name, client in clients.items()
    ]


def _batch_max(settings: Settings) -> dict[str, int]:
    return {settings.provider_name: settings.provider_batch_max, settings.fallback_provider_name: settings.fallback_provider_batch_max}


def _breaker(settings: Settings) -> CircuitBreaker:
    return CircuitBreaker(failures=settings.breaker_failures, reset_after_s=settings.breaker_reset_s)


def _provider_urls(settings: Settings) -> dict[str, str]:
    urls = {settings.provider_name: settings.provider_url}
    if settings.fallback_provider_url:
        urls[settings.fallback_provider_name] = settings.fallback_provider_url
    return urls


def reminder_dispatcher(settings: Settings, catalogue: TemplateCatalogue, vault: ContactVault):
    """The background loop that sends due reminders, built with what it needs."""

    async def dispatch_reminders(runtime) -> None:
        # One INFO line per provider call would drown the service's own logs.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        timeout = httpx.Timeout(settings.provider_timeout_s)
        # As many kept-alive connections as calls in flight: the default keeps 20 and reconnects the rest.
        limits = httpx.Limits(
            max_connections=settings.dispatch_concurrency, max_keepalive_connections=settings.dispatch_concurrency
        )
        wake = Wakeup(settings.database_url.get_secret_value())
        async with AsyncExitStack() as stack:
            clients = {
                name: await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits))
                for name, url in _provider_urls(settings).items()
            }
            dispatcher = Dispatcher(
                runtime, channels=build_channels(settings, clients), catalogue=catalogue, vault=vault, settings=settings
            )
            try:
                await wake.ensure_listening()
                # A new reminder wakes the loop at once; the interval catches deferred ones coming due.
                await dispatcher.run(wake, runtime.stopping)
            finally:
                await wake.close()

    return dispatch_reminders


async def purge_expired_history(runtime) -> None:
    """A loan's contact history is kept for its jurisdiction's retention period (CN 5 years, US 3) after
    its last attempt, then deleted with its reminders."""
    while not await runtime.sleep_or_stop(3600):
        try:
            async with runtime.uow() as uow:
                await repository.purge_history(uow.session, uow.clock.now(), 10_000)
                await uow.commit()
        except Exception:
            log.exception("purging expired contact history failed; retried in an hour")
