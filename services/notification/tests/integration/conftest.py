"""A running notification service on real PostgreSQL and Tansu, with the dev provider beside it."""

import socket
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from dunning_notification.config import Settings
from dunning_notification.main import create_service_app
from dunning_platform.clock import FixedClock
from dunning_platform.devstack.postgres import asyncpg_dsn
from dunning_platform.devstack.provider import DevProvider
from dunning_platform.testing import async_wait_for

from notification_testkit.events import RECEIPT_SECRET, BusReader
from notification_testkit.serving import served

# 11:00 in Shanghai: inside the allowed hours.
SHANGHAI_MORNING = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


@dataclass
class Notification:
    api: httpx.AsyncClient
    clock: FixedClock
    provider: DevProvider
    bus: BusReader
    bootstrap: str
    database_url: str
    token: str

    async def reminders(self, loan_id: str) -> list[dict]:
        response = await self.api.get("/v1/reminders", params={"loan_id": loan_id}, headers=self.auth)
        response.raise_for_status()
        return response.json()["items"]

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    async def reminder_when(self, loan_id: str, predicate, what: str, timeout: float = 30.0) -> dict:
        async def matching():
            items = await self.reminders(loan_id)
            return items[0] if items and predicate(items[0]) else None

        return await async_wait_for(matching, timeout=timeout, what=what)

    async def loan_known(self, loan_id: str) -> None:
        """Wait until the service holds the borrower's contact data and the loan's overdue figures."""
        query = (
            "SELECT 1 FROM notification.loans l JOIN notification.borrowers b USING (borrower_id)"
            " WHERE l.loan_id = $1 AND l.figures_as_of IS NOT NULL"
        )
        await async_wait_for(lambda: self._fetch(query, loan_id), what=f"loan {loan_id} to be known")

    async def loan_cleared(self, loan_id: str) -> None:
        query = "SELECT 1 FROM notification.loans WHERE loan_id = $1 AND cleared_at IS NOT NULL"
        await async_wait_for(lambda: self._fetch(query, loan_id), what=f"loan {loan_id} to be cleared")

    async def _fetch(self, query: str, *args):
        connection = await asyncpg.connect(asyncpg_dsn(self.database_url))
        try:
            return await connection.fetchval(query, *args)
        finally:
            await connection.close()

    async def all_reminders_when(self, loan_id: str, predicate, what: str, timeout: float = 30.0) -> list[dict]:
        async def matching():
            items = await self.reminders(loan_id)
            return items if predicate(items) else None

        return await async_wait_for(matching, timeout=timeout, what=what)

    async def events_when(self, reminder_id: str, predicate, what: str, timeout: float = 30.0) -> list[dict]:
        async def matching():
            events = await self.bus.reminder_sent(reminder_id)
            return events if predicate(events) else None

        return await async_wait_for(matching, timeout=timeout, what=what)


@pytest.fixture
async def provider():
    async with DevProvider(receipt_secret=RECEIPT_SECRET) as running:
        yield running


@pytest.fixture
def start_notification(service_database, kafka_bootstrap, tokens_file, admin_token, pii_key, provider):
    """`async with start_notification(**settings) as service:` a running service with those settings."""

    @asynccontextmanager
    async def start(clock: FixedClock | None = None, *, over_http: bool = False, **overrides):
        url = await service_database("notification")
        if over_http:
            # Providers call back (delivery receipts): the service listens on a real port as well.
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            sock.close()
            overrides = {"public_url": f"http://127.0.0.1:{port}"} | overrides
        clock = clock or FixedClock(SHANGHAI_MORNING)
        settings = Settings(
            **{
                "database_url": url,
                "tokens_file": tokens_file,
                "pii_key": pii_key,
                "kafka_bootstrap": kafka_bootstrap,
                "provider_url": provider.url,
                "provider_timeout_s": 1.0,
                "smtp_port": provider.smtp_port,
                "dispatch_interval_s": 0.05,
            }
            | overrides
        )
        app = create_service_app(settings, clock)
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30), AsyncExitStack() as stack:
            if over_http:
                await stack.enter_async_context(served(app, settings.public_url))
            api = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://notification")
            )
            bus = await BusReader(kafka_bootstrap).start()
            stack.push_async_callback(bus.stop)
            yield Notification(api, clock, provider, bus, kafka_bootstrap, url, admin_token)

    return start


@pytest.fixture
async def notification(start_notification):
    async with start_notification() as service:
        yield service
