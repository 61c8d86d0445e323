"""On the system clock the service consumes in several processes, members of one consumer group."""

import httpx
import pytest
from asgi_lifespan import LifespanManager
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from ingestion_testkit.events import loan_booked, new_loan_id
from ingestion_testkit.probes import eventually, outbox, produce

from dunning_contracts import Topics
from dunning_ingestion.config import Settings
from dunning_ingestion.main import create_service_app


@pytest.fixture(scope="module")
async def two_processes(database_factory, kafka_bootstrap, tokens_file):
    settings = Settings(
        database_url=await database_factory.create("ingestion"),
        kafka_bootstrap=kafka_bootstrap,
        tokens_file=tokens_file,
        consumer_processes=2,
        aging_sweep_poll_seconds=3600,
    )
    app = create_service_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
            yield app, client


async def test_the_service_is_ready_once_its_consumer_process_runs(two_processes):
    app, client = two_processes

    async def ready():
        return (await client.get("/readyz")).status_code == 200

    assert await eventually(ready, timeout=60)
    assert app.state.runtime.workers.problem() is None


async def test_loans_on_every_partition_are_applied_once_and_announced(two_processes, kafka_bootstrap):
    app, _ = two_processes
    loan_ids = [new_loan_id() for _ in range(12)]
    bookings = [loan_booked(loan_id, ("2026-01-10", "1000", "50")) for loan_id in loan_ids]
    await produce(kafka_bootstrap, Topics.REPAYMENT_EVENTS, *bookings)

    async def all_announced():
        announced = [e["subject"] for e in await outbox(app, topic=Topics.LOAN_OVERDUE)]
        return announced if set(announced) == set(loan_ids) else None

    announced = await eventually(all_announced, timeout=60)
    assert sorted(announced) == sorted(loan_ids)


async def test_what_the_consumer_process_counts_shows_in_the_service_metrics(two_processes, kafka_bootstrap):
    _, client = two_processes
    served_before, own_before = consumed(await metrics_text(client)), consumed(generate_latest().decode())
    loan_ids = [new_loan_id() for _ in range(12)]
    await produce(kafka_bootstrap, Topics.REPAYMENT_EVENTS, *[loan_booked(i, ("2026-01-10", "1000", "50")) for i in loan_ids])

    async def all_counted():
        text = await metrics_text(client)
        return text if consumed(text) - served_before == 12 else None

    text = await eventually(all_counted, timeout=60)
    assert consumed(generate_latest().decode()) - own_before < 12, "this process consumed only its partitions"
    types = [line for line in text.splitlines() if line.startswith("# TYPE ")]
    assert len(types) == len(set(types)), "each metric family once, the processes' samples merged"


async def metrics_text(client: httpx.AsyncClient) -> str:
    return (await client.get("/metrics")).text


def consumed(text: str) -> float:
    """Bookings consumed from the inbound topic, whatever the outcome."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "events_consumed_total"
        and sample.labels.get("topic") == Topics.REPAYMENT_EVENTS
        and sample.labels.get("type") == "LoanBooked"
    )
