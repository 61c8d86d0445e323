"""An ingestion app on a fresh database and the test module's broker, with a clock the test moves."""

from datetime import UTC, datetime

import httpx
import pytest
from asgi_lifespan import LifespanManager

from dunning_ingestion.config import Settings
from dunning_ingestion.main import create_service_app
from dunning_platform.clock import FixedClock

# 2026-01-20 10:00 in Shanghai: the factories' first installments fall due before it.
NOW = datetime(2026, 1, 20, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(autouse=True)
def _clock_starts_at_now(clock: FixedClock) -> None:
    clock.set(NOW)


@pytest.fixture(scope="module")
async def ingestion(database_factory, kafka_bootstrap, tokens_file, clock):
    """(app, client): the service running with its consumer, relay and sweep loop. One per test module,
    for speed: a consumer group takes seconds to join, so tests share it and use loans of their own."""
    settings = Settings(
        database_url=await database_factory.create("ingestion"),
        kafka_bootstrap=kafka_bootstrap,
        tokens_file=tokens_file,
        kafka_retry_backoff_ms=20,
        aging_sweep_poll_seconds=3600,
    )
    app = create_service_app(settings, clock=clock)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
            yield app, client

