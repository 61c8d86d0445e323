"""A running scheduler on a fresh database and the test module's broker."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from dunning_platform.clock import FixedClock

# The helpers live beside the tests; importlib mode does not put this folder on the path.
sys.path.insert(0, str(Path(__file__).parents[1]))

from scheduler_testkit import START, Bus, Scheduler, running, settings_for  # noqa: E402


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def bus(kafka_bootstrap: str) -> AsyncIterator[Bus]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        yield Bus(kafka_bootstrap, producer)
    finally:
        await producer.stop()


@pytest.fixture
async def database_url(service_database) -> str:
    return await service_database("dunning-scheduler")


@pytest.fixture
async def scheduler(database_url, kafka_bootstrap, tokens_file, admin_token, bus, clock) -> AsyncIterator[Scheduler]:
    async with running(settings_for(database_url, kafka_bootstrap, tokens_file), clock, admin_token) as client:
        yield Scheduler(client, database_url, bus, clock)
