"""A running legal-referral service on a fresh database and the test module's broker, with helpers to
talk to it the way other services do: over the bus."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from asgi_lifespan import LifespanManager

from dunning_contracts import TOPIC_OF_TYPE, CloudEvent, Topics, new_event
from dunning_contracts.events import (
    Borrower,
    CaseEscalated,
    ContactAttempted,
    HoldPlaced,
    HoldReleased,
    Installment,
    LoanBooked,
    LoanOverdue,
    OverdueCleared,
    PlanAgreed,
    PlanCompleted,
    PlanInstallment,
    PromiseBroken,
    PromiseKept,
    PromiseMade,
    ReminderSent,
)
from dunning_legal.config import Settings
from dunning_legal.main import create_service_app
from dunning_platform.clock import FixedClock
from dunning_platform.devstack.broker import external_bootstrap, start_tansu
from dunning_platform.devstack.postgres import asyncpg_dsn
from dunning_platform.devstack.processes import free_port

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
UPSTREAM = "urn:test:upstream"


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


class LegalService:
    def __init__(
        self, client: httpx.AsyncClient, database_url: str, bootstrap: str, producer: AIOKafkaProducer
    ) -> None:
        self.client = client
        self.database_url = database_url
        self.bootstrap = bootstrap
        self.producer = producer

    async def send(self, type_name: str, data, *, event: CloudEvent | None = None) -> CloudEvent:
        """Publish a bus event as its producer would (key = loan id); returns it, to be sent again."""
        event = event or new_event(type_name, UPSTREAM, data, data.loan_id)
        await self.producer.send_and_wait(TOPIC_OF_TYPE[type_name], event.to_json_bytes(), key=event.subject.encode())
        return event

    async def handled(self, *events: CloudEvent) -> None:
        """Wait until the service has applied these events (their ids are in its inbox)."""
        ids = [e.id for e in events]

        async def all_in_inbox() -> bool:
            return await self._scalar("SELECT count(*) FROM legal.inbox WHERE event_id = ANY($1)", ids) == len(set(ids))

        await eventually(all_in_inbox, what=f"the service to handle {len(ids)} event(s)")

    async def published(self) -> None:
        """Wait until everything the service emitted has left its outbox."""

        async def outbox_empty() -> bool:
            return await self._scalar("SELECT count(*) FROM legal.outbox WHERE published_at IS NULL") == 0

        await eventually(outbox_empty, what="the outbox to be published")

    async def dead_letters(self) -> int:
        """How many events the service has sent to a dead-letter topic."""
        return await self._scalar("SELECT count(*) FROM legal.outbox WHERE topic LIKE '%.dlq'")

    async def put_partner(self, partner_id: str, **changes) -> dict:
        """Add a partner, or change one as it stands in the registry."""
        partners = {p["partner_id"]: p for p in (await self.client.get("/v1/partners")).json()["items"]}
        current = {k: v for k, v in partners.get(partner_id, {}).items() if k not in ("partner_id", "open_referrals")}
        response = await self.client.put(f"/v1/partners/{partner_id}", json=current | changes)
        assert response.status_code == 200, response.text
        return response.json()

    async def deactivate_every_partner(self) -> None:
        for partner in (await self.client.get("/v1/partners")).json()["items"]:
            await self.put_partner(partner["partner_id"], active=False)

    async def fetch_one(self, query: str, *args):
        connection = await asyncpg.connect(asyncpg_dsn(self.database_url))
        try:
            return await connection.fetchrow(query, *args)
        finally:
            await connection.close()

    async def _scalar(self, query: str, *args):
        connection = await asyncpg.connect(asyncpg_dsn(self.database_url))
        try:
            return await connection.fetchval(query, *args)
        finally:
            await connection.close()

    async def legal_case_events(self, loan_id: str) -> list[CloudEvent]:
        """Every event on dunning.legal-case.v1 about `loan_id`, read from the start of the topic."""
        await self.published()
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            return [e for e in await _read_all(consumer, Topics.LEGAL_CASE) if e.subject == loan_id]
        finally:
            await consumer.stop()

    eventually = staticmethod(eventually)

    async def referrals(self, loan_id: str) -> list[dict]:
        response = await self.client.get("/v1/legal-cases", params={"loan_id": loan_id})
        assert response.status_code == 200, response.text
        return response.json()["items"]

    async def referral_of(self, loan_id: str) -> dict:
        referrals = await eventually(lambda: self.referrals(loan_id), what=f"a referral of {loan_id}")
        assert len(referrals) == 1
        return referrals[0]


async def _read_all(consumer: AIOKafkaConsumer, topic: str) -> list[CloudEvent]:
    partitions = [
        TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or await _partitions(consumer, topic))
    ]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    ends = await consumer.end_offsets(partitions)
    events: list[CloudEvent] = []
    while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
        for records in (await consumer.getmany(timeout_ms=500)).values():
            events += [CloudEvent.model_validate_json(r.value) for r in records]
    return events


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer._client.cluster.partitions_for_topic(topic) or set()


@pytest.fixture(scope="package")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One broker for all of this service's integration tests: the first consumer group to join a fresh
    Tansu waits far longer than later ones, and every test works on loans of its own."""
    external = external_bootstrap()
    if external:
        yield external
        return
    broker, port = _start_tansu(tmp_path_factory.mktemp("tansu") / "tansu.log")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        broker.stop(timeout=5)


def _start_tansu(log_path, attempts: int = 5):
    # Another process may take the free port between the probe and the broker's bind; then try another.
    for attempt in range(attempts):
        port = free_port()
        try:
            return start_tansu(port, log_path), port
        except RuntimeError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def legal(service_database, kafka_bootstrap, tokens_file, admin_token, pii_key, clock):
    url = await service_database("legal-referral")
    settings = Settings(
        database_url=url,
        tokens_file=tokens_file,
        kafka_bootstrap=kafka_bootstrap,
        pii_key=pii_key,
        reassign_interval_seconds=0.2,
        kafka_retry_backoff_ms=20,
    )
    app = create_service_app(settings, clock)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
            headers = {"Authorization": f"Bearer {admin_token}"}
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app), base_url="http://t", headers=headers
            ) as client:
                yield LegalService(client, url, kafka_bootstrap, producer)
    finally:
        await producer.stop()


class Events:
    """Small factories of the events other services send."""

    @staticmethod
    def new_loan_id() -> str:
        return f"L-{uuid.uuid4().hex[:10]}"

    @staticmethod
    def escalation(
        loan_id: str, *, case_id: str | None = None, to_stage: str = "legal", reason: str = "90 days past due"
    ) -> CaseEscalated:
        return CaseEscalated(
            case_id=case_id or f"C-{loan_id}",
            loan_id=loan_id,
            borrower_id=f"B-{loan_id}",
            from_stage="field_visit",
            to_stage=to_stage,
            reason=reason,
            days_past_due=92,
            overdue_amount=Decimal("3150.40"),
            currency="CNY",
            escalated_at=START,
        )

    @staticmethod
    def overdue(loan_id: str, *, days: int = 92, amount: str = "3150.40", lender: str = "acme-lending") -> LoanOverdue:
        return LoanOverdue(
            loan_id=loan_id,
            borrower_id=f"B-{loan_id}",
            lender=lender,
            product="cash-loan-12m",
            currency="CNY",
            overdue_since=START.date().replace(month=8),
            days_past_due=days,
            overdue_amount=Decimal(amount),
            penalty_accrued=Decimal("88.20"),
            outstanding_balance=Decimal("12000.00"),
            as_of=START,
        )

    @staticmethod
    def reminder_sent(loan_id: str, status: str = "delivered", *, channel: str = "sms") -> ReminderSent:
        return ReminderSent(
            reminder_id=f"R-{uuid.uuid4().hex[:8]}",
            loan_id=loan_id,
            channel=channel,
            status=status,
            reason="quiet hours" if status == "suppressed" else None,
            provider="dev-sms",
            provider_message_id=None if status == "suppressed" else uuid.uuid4().hex,
            occurred_at=START,
        )

    @staticmethod
    def cleared(loan_id: str, reason: str = "paid") -> OverdueCleared:
        return OverdueCleared(loan_id=loan_id, reason=reason, cleared_at=START + timedelta(hours=1))

    @staticmethod
    def booked(
        loan_id: str, *, region: str = "CN-GD", locale: str = "zh-CN", lender: str = "acme-lending"
    ) -> LoanBooked:
        borrower = Borrower(
            borrower_id=f"B-{loan_id}", name="张伟", phone="+8613800138000", locale=locale, region=region
        )
        installment = Installment(
            seq=1,
            due_date=START.date().replace(month=8),
            principal_due=Decimal("3000.00"),
            interest_due=Decimal("150.40"),
        )
        return LoanBooked(
            loan_id=loan_id,
            lender=lender,
            product="cash-loan-12m",
            currency="CNY",
            principal=Decimal("12000.00"),
            booked_at=START.replace(month=1),
            borrower=borrower,
            installments=[installment],
        )


class CaseEvents:
    """Factories of the scheduler's case events (promises, holds, plans, agents' contacts) of a loan's
    collection case."""

    AGENT = "agent-7"

    @staticmethod
    def promise_made(loan_id: str, promise_id: str, at: datetime, amount: str = "500.00") -> PromiseMade:
        return PromiseMade(
            case_id=f"C-{loan_id}",
            loan_id=loan_id,
            occurred_at=at,
            promise_id=promise_id,
            amount=Decimal(amount),
            currency="CNY",
            promised_date=(at + timedelta(days=5)).date(),
            taken_by="agent-7",
        )

    @staticmethod
    def promise_kept(loan_id: str, promise_id: str, at: datetime) -> PromiseKept:
        return PromiseKept(case_id=f"C-{loan_id}", loan_id=loan_id, occurred_at=at, promise_id=promise_id)

    @staticmethod
    def promise_broken(loan_id: str, promise_id: str, at: datetime, broken: int = 1) -> PromiseBroken:
        return PromiseBroken(
            case_id=f"C-{loan_id}", loan_id=loan_id, occurred_at=at, promise_id=promise_id, broken_promises=broken
        )

    @staticmethod
    def hold_placed(loan_id: str, hold_id: str, at: datetime, reason: str = "dispute") -> HoldPlaced:
        return HoldPlaced(
            case_id=f"C-{loan_id}",
            loan_id=loan_id,
            occurred_at=at,
            hold_id=hold_id,
            reason=reason,
            expires_at=at + timedelta(days=14),
        )

    @staticmethod
    def hold_released(loan_id: str, hold_id: str, at: datetime, because: str = "resolved") -> HoldReleased:
        return HoldReleased(
            case_id=f"C-{loan_id}",
            loan_id=loan_id,
            occurred_at=at,
            hold_id=hold_id,
            reason="dispute",
            released_because=because,
        )

    @staticmethod
    def plan_agreed(
        loan_id: str, plan_id: str, at: datetime, amounts: tuple[str, ...] = ("300.00", "300.00")
    ) -> PlanAgreed:
        installments = [
            PlanInstallment(seq=seq, due_date=(at + timedelta(days=30 * seq)).date(), amount=Decimal(amount))
            for seq, amount in enumerate(amounts, start=1)
        ]
        return PlanAgreed(
            case_id=f"C-{loan_id}",
            loan_id=loan_id,
            occurred_at=at,
            plan_id=plan_id,
            currency="CNY",
            installments=installments,
        )

    @staticmethod
    def contact_attempted(
        loan_id: str, task_id: str, at: datetime, *, channel: str = "phone", outcome: str = "no_answer"
    ) -> ContactAttempted:
        return ContactAttempted(
            case_id=f"C-{loan_id}",
            loan_id=loan_id,
            occurred_at=at,
            task_id=task_id,
            borrower_id=f"B-{loan_id}",
            channel=channel,
            connected=outcome not in ("no_answer", "wrong_number"),
            outcome=outcome,
            agent_id=CaseEvents.AGENT,
        )

    @staticmethod
    def plan_completed(loan_id: str, plan_id: str, at: datetime) -> PlanCompleted:
        return PlanCompleted(case_id=f"C-{loan_id}", loan_id=loan_id, occurred_at=at, plan_id=plan_id)


@pytest.fixture
def events() -> type[Events]:
    return Events


@pytest.fixture
def case_events() -> type[CaseEvents]:
    return CaseEvents
