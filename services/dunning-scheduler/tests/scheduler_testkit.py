"""Helpers of the scheduler's integration tests: event factories, the bus, a running scheduler."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from asgi_lifespan import LifespanManager

from dunning_contracts import TOPIC_OF_TYPE, CloudEvent, Topics, new_event
from dunning_contracts.events import Borrower, Installment, LoanBooked, LoanOverdue, OverdueCleared
from dunning_platform.clock import FixedClock
from dunning_platform.devstack.postgres import asyncpg_dsn
from dunning_scheduler.config import Settings
from dunning_scheduler.main import create_service_app

# 17:00 in Shanghai: inside the default contact window.
START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
UPSTREAM = "urn:test:ingestion"


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 30.0, what: str = "the outcome") -> Any:
    """Poll until `check` returns something truthy; a new consumer group needs a few seconds to join."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        await asyncio.sleep(0.1)


def new_loan_id() -> str:
    return f"L-{uuid.uuid4().hex[:10]}"


def overdue(loan_id: str, days: int, amount: str = "1200.00", *, as_of: datetime = START) -> LoanOverdue:
    return LoanOverdue(
        loan_id=loan_id,
        borrower_id=f"B-{loan_id}",
        lender="acme",
        product="cash-loan",
        currency="CNY",
        overdue_since=as_of.date() - timedelta(days=days),
        days_past_due=days,
        overdue_amount=Decimal(amount),
        penalty_accrued=Decimal("0"),
        outstanding_balance=Decimal(amount) * 3,
        as_of=as_of,
    )


def cleared(loan_id: str, at: datetime = START) -> OverdueCleared:
    return OverdueCleared(loan_id=loan_id, reason="paid", cleared_at=at)


def booked(loan_id: str, due: date, *, timezone: str = "Asia/Shanghai", locale: str = "zh-CN") -> LoanBooked:
    return LoanBooked(
        loan_id=loan_id,
        lender="acme",
        product="cash-loan",
        currency="CNY",
        principal=Decimal("3000"),
        booked_at=START - timedelta(days=30),
        borrower=Borrower(
            borrower_id=f"B-{loan_id}", name="Wang Fang", phone="+8613800000000", email="w@example.cn",
            locale=locale, timezone=timezone, region="CN",
        ),
        installments=[Installment(seq=1, due_date=due, principal_due=Decimal("1000"), interest_due=Decimal("20"))],
    )


class Bus:
    def __init__(self, bootstrap: str, producer: AIOKafkaProducer) -> None:
        self.bootstrap = bootstrap
        self.producer = producer

    async def send(self, type_name: str, data, *, event: CloudEvent | None = None) -> CloudEvent:
        """Publish as the event's producer would (key = loan id); returns the event, to be sent again."""
        event = event or new_event(type_name, UPSTREAM, data, data.loan_id)
        await self.producer.send_and_wait(TOPIC_OF_TYPE[type_name], event.to_json_bytes(), key=event.subject.encode())
        return event

    async def events(self, topic: str, loan_id: str) -> list[CloudEvent]:
        """Every event on `topic` about `loan_id`, read from the start."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            return [e for e in await _read_all(consumer, topic) if e.subject == loan_id]
        finally:
            await consumer.stop()

    async def reminders(self, loan_id: str) -> list[dict]:
        return [e.data for e in await self.events(Topics.REMINDER_REQUESTED, loan_id)]

    async def escalations(self, loan_id: str) -> list[dict]:
        return [e.data for e in await self.events(Topics.CASE_ESCALATED, loan_id)]


async def _read_all(consumer: AIOKafkaConsumer, topic: str) -> list[CloudEvent]:
    await consumer._client.force_metadata_update()
    numbers = consumer._client.cluster.partitions_for_topic(topic) or set()
    partitions = [TopicPartition(topic, p) for p in numbers]
    if not partitions:
        return []
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    ends = await consumer.end_offsets(partitions)
    events: list[CloudEvent] = []
    while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
        for records in (await consumer.getmany(timeout_ms=500)).values():
            events += [CloudEvent.model_validate_json(r.value) for r in records]
    return events


class Scheduler:
    """One running scheduler: its HTTP client, its database, and the bus."""

    def __init__(self, client: httpx.AsyncClient, database_url: str, bus: Bus, clock: FixedClock) -> None:
        self.client, self.database_url, self.bus, self.clock = client, database_url, bus, clock

    async def scalar(self, query: str, *args):
        return await self._on_connection("fetchval", query, *args)

    async def fetch(self, query: str, *args) -> list:
        return await self._on_connection("fetch", query, *args)

    async def execute(self, query: str, *args) -> str:
        return await self._on_connection("execute", query, *args)

    async def _on_connection(self, method: str, query: str, *args):
        connection = await asyncpg.connect(asyncpg_dsn(self.database_url))
        try:
            return await getattr(connection, method)(query, *args)
        finally:
            await connection.close()

    async def handled(self, *events: CloudEvent) -> None:
        """Wait until the service has applied these events (their ids are in its inbox)."""
        ids = [e.id for e in events]

        async def all_in_inbox() -> bool:
            return await self.scalar("SELECT count(*) FROM scheduler.inbox WHERE event_id = ANY($1)", ids) == len(set(ids))

        await eventually(all_in_inbox, what=f"the service to handle {len(ids)} event(s)")

    async def settled(self) -> None:
        """Wait until nothing due is left unfired and everything emitted has left the outbox."""

        async def quiet() -> bool:
            due = await self.scalar(
                "SELECT count(*) FROM scheduler.timers WHERE status = 'pending' AND due_at <= $1", self.clock.now()
            )
            unsent = await self.scalar("SELECT count(*) FROM scheduler.outbox WHERE published_at IS NULL")
            return due == 0 and unsent == 0

        await eventually(quiet, what="due timers to fire and the outbox to drain")

    async def cases(self, loan_id: str) -> list[dict]:
        response = await self.client.get("/v1/cases", params={"loan_id": loan_id})
        assert response.status_code == 200, response.text
        return response.json()["items"]

    async def case_of(self, loan_id: str) -> dict:
        [summary] = await self.cases(loan_id)
        response = await self.client.get(f"/v1/cases/{summary['case_id']}")
        assert response.status_code == 200, response.text
        return response.json()


def settings_for(database_url: str, bootstrap: str, tokens_file) -> Settings:
    return Settings(
        database_url=database_url, kafka_bootstrap=bootstrap, tokens_file=tokens_file, timer_poll_seconds=0.05
    )


@contextlib.asynccontextmanager
async def running(settings: Settings, clock: FixedClock, token: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app(settings, clock=clock)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t", headers=headers) as client:
            yield client


