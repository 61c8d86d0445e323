"""The Kafka runtime against real PostgreSQL and a real broker: dedupe, DLQ, outbox relay."""

import argparse
import asyncio
import gc
import json
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from cryptography.fernet import Fernet
from sqlalchemy import Column, Table, Text, insert, select

from dunning_contracts import CloudEvent, Topics
from dunning_contracts.events import LoanClosed, OverdueCleared, RepaymentFailed
from dunning_messaging import Batched, ConsumerSpec, Runtime, messaging_tables
from dunning_messaging.testing import database_with_messaging_tables
from dunning_platform.db import service_metadata
from dunning_platform.errors import InvalidInput
from dunning_platform.settings import ServiceSettings


metadata = service_metadata("msgtest")
tables = messaging_tables(metadata)
effects = Table("effects", metadata, Column("loan_id", Text, primary_key=True))


@pytest.fixture(scope="module")
async def database_url(postgres_admin_url):
    return await database_with_messaging_tables(postgres_admin_url, "msg", ["msgtest"], also=_effects_table)


def _effects_table(operations) -> None:
    operations.create_table("effects", Column("loan_id", Text, primary_key=True), schema="msgtest")


BROKEN_PREFIX = "boom"


async def on_loan_closed(uow, event, data: LoanClosed) -> None:
    if data.loan_id.startswith(BROKEN_PREFIX):
        raise RuntimeError("the handler broke")
    if data.loan_id.startswith("refuse"):
        raise InvalidInput("loan_id: refused by the rules", field="loan_id")
    await uow.session.execute(insert(effects).values(loan_id=data.loan_id))
    uow.emit("OverdueCleared", OverdueCleared(loan_id=data.loan_id, reason="closed", cleared_at=data.closed_at))


BATCH_SIZES: list[int] = []


async def on_repayments_failed(uow, events: list[tuple[CloudEvent, RepaymentFailed]]) -> None:
    """Set-based: one statement for the whole run; a poison event in it fails the run."""
    if any(data.loan_id.startswith(BROKEN_PREFIX) for _, data in events):
        raise RuntimeError("the batch handler broke")
    BATCH_SIZES.append(len(events))
    await uow.session.execute(insert(effects), [{"loan_id": data.loan_id} for _, data in events])


def failed(loan_id: str) -> bytes:
    return CloudEvent(
        specversion="1.0", id=str(uuid.uuid4()), source="urn:test", type="RepaymentFailed", time=datetime.now(UTC),
        subject=loan_id, data={"loan_id": loan_id, "seq": 1, "reason": "insufficient funds", "failed_at": datetime.now(UTC).isoformat()},
    ).to_json_bytes()


def closed(loan_id: str, event_id: str | None = None) -> bytes:
    return CloudEvent(
        specversion="1.0",
        id=event_id or str(uuid.uuid4()),
        source="urn:test",
        type="LoanClosed",
        time=datetime.now(UTC),
        subject=loan_id,
        data={"loan_id": loan_id, "reason": "repaid", "closed_at": datetime.now(UTC).isoformat()},
    ).to_json_bytes()


@pytest.fixture(scope="module")
async def runtime(database_url, kafka_bootstrap, tmp_path_factory):
    settings = ServiceSettings(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        tokens_file=tmp_path_factory.mktemp("t") / "tokens.json",
        source="urn:test:runtime",
        kafka_retry_backoff_ms=10,
        pii_key=Fernet.generate_key().decode(),
    )
    spec = ConsumerSpec(
        "runtime-test", [Topics.REPAYMENT_EVENTS], {"LoanClosed": on_loan_closed, "RepaymentFailed": Batched(on_repayments_failed)},
        reject_unknown_types=True,
    )
    runtime = Runtime(settings, tables, service="runtime-test", schema="msgtest", consumers=[spec], produces=[Topics.LOAN_OVERDUE])
    await runtime.start()
    yield runtime
    await runtime.stop()


async def produce(bootstrap: str, messages: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(Topics.REPAYMENT_EVENTS, value, key=key.encode())
    finally:
        await producer.stop()


async def produce_together(bootstrap: str, messages: list[tuple[str, bytes]]) -> None:
    """In one produce request, so the consumer fetches them in one batch."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=200)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send(Topics.REPAYMENT_EVENTS, value, key=b"one-partition")
        await producer.flush()
    finally:
        await producer.stop()


async def read_topic(bootstrap: str, topic: str, count: int, timeout: float = 30) -> list:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    records = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(records) < count and asyncio.get_running_loop().time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def wait_for_effects(runtime, expected: set[str], timeout: float = 30) -> set[str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with runtime.session_factory() as session:
            found = set((await session.scalars(select(effects.c.loan_id))).all())
        if expected <= found or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.2)


async def test_valid_events_are_applied_once_and_poison_goes_to_the_dlq(runtime, kafka_bootstrap):
    repeated = closed("L-dup", "same-id")
    await produce(
        kafka_bootstrap,
        [
            ("L-1", closed("L-1")),
            ("L-dup", repeated),
            ("L-dup", repeated),
            ("L-x", b"{not json"),
            ("boom-1", closed("boom-1")),
            ("refuse-1", closed("refuse-1")),
            ("L-2", closed("L-2")),
        ],
    )
    found = await wait_for_effects(runtime, {"L-1", "L-2", "L-dup"})
    assert found == {"L-1", "L-2", "L-dup"}

    dead = await read_topic(kafka_bootstrap, f"{Topics.REPAYMENT_EVENTS}.dlq", 3)
    reasons = {r.key.decode(): dict((k, v.decode()) for k, v in r.headers) for r in dead}
    assert set(reasons) == {"L-x", "boom-1", "refuse-1"}
    assert reasons["L-x"]["dlq-reason"] == "invalid" and "Invalid JSON" in reasons["L-x"]["dlq-error"]
    assert reasons["boom-1"]["dlq-reason"] == "failed" and "the handler broke" in reasons["boom-1"]["dlq-error"]
    assert reasons["refuse-1"]["dlq-reason"] == "rejected"
    assert {r.key.decode(): r.value for r in dead}["L-x"] == b"{not json"  # dead-lettered unchanged
    async with runtime.session_factory() as session:
        stored = (await session.execute(select(tables.outbox.c.value, tables.outbox.c.sealed).where(tables.outbox.c.key == b"L-x"))).one()
    assert stored.sealed and stored.value != b"{not json"  # kept encrypted at rest

    cleared = await read_topic(kafka_bootstrap, Topics.LOAN_OVERDUE, 3)
    assert sorted(json.loads(r.value)["data"]["loan_id"] for r in cleared) == ["L-1", "L-2", "L-dup"]
    assert all(r.key.decode() == json.loads(r.value)["subject"] for r in cleared)


async def test_a_batched_handler_takes_runs_of_events_and_a_poison_one_is_split_out(runtime, kafka_bootstrap):
    loans = [f"F-{i}" for i in range(8)]
    messages = [(loan, failed(loan)) for loan in loans[:4]] + [("boom-f", failed("boom-f"))]
    await produce_together(kafka_bootstrap, messages + [(loan, failed(loan)) for loan in loans[4:]])
    found = await wait_for_effects(runtime, set(loans))
    assert set(loans) <= found and "boom-f" not in found
    assert max(BATCH_SIZES) > 1  # the valid neighbours still went in runs, not one by one
    dead = await read_topic(kafka_bootstrap, f"{Topics.REPAYMENT_EVENTS}.dlq", 4)
    assert any(b'"subject":"boom-f"' in r.value and b"the batch handler broke" in dict(r.headers)["dlq-error"] for r in dead)


async def test_a_started_runtime_leaves_what_start_up_built_out_of_the_collectors_walks(runtime):
    assert gc.get_freeze_count() > 0, "start-up's objects are frozen"
    assert gc.get_threshold()[0] == 10_000, "young objects are collected less often"


async def test_outbox_rows_left_unpublished_by_a_crash_are_published_by_the_next_relay(runtime, kafka_bootstrap):
    async with runtime.uow() as uow:
        uow.emit("OverdueCleared", OverdueCleared(loan_id="L-crash", reason="paid", cleared_at=datetime.now(UTC)))
        await uow.session.execute(insert(effects).values(loan_id="L-crash"))
        await uow.flush()
        await uow.session.commit()  # committed, but the relay is never woken, as after a crash before send
    records = await read_topic(kafka_bootstrap, Topics.LOAN_OVERDUE, 4, timeout=10)
    assert "L-crash" in {json.loads(r.value)["data"]["loan_id"] for r in records}


async def test_events_emitted_by_a_handler_continue_the_trace_of_the_event_it_handled(runtime, kafka_bootstrap):
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    await producer.send_and_wait(
        Topics.REPAYMENT_EVENTS,
        closed("L-traced"),
        key=b"L-traced",
        headers=[("traceparent", f"00-{trace_id}-00f067aa0ba902b7-01".encode())],
    )
    await producer.stop()
    await wait_for_effects(runtime, {"L-traced"})
    records = await read_topic(kafka_bootstrap, Topics.LOAN_OVERDUE, 5)
    traced = [r for r in records if json.loads(r.value)["subject"] == "L-traced"]
    header = dict(traced[0].headers)["traceparent"].decode()
    assert header.split("-")[1] == trace_id
    assert json.loads(traced[0].value)["traceparent"] == header


async def test_a_dead_letter_re_driven_after_a_fix_is_applied_once(runtime, kafka_bootstrap, monkeypatch):
    from dunning_messaging import cli

    monkeypatch.setenv("DUNNING_KAFKA_BOOTSTRAP", kafka_bootstrap)
    dead = await cli.read_dead_letters(Topics.REPAYMENT_EVENTS)
    boom = next(r for r in dead if r.key == b"boom-1")
    monkeypatch.setitem(globals(), "BROKEN_PREFIX", "nothing-is-broken")  # the handler is fixed
    for _ in range(2):  # twice: the second re-drive finds the event in the inbox
        chosen = argparse.Namespace(topic=Topics.REPAYMENT_EVENTS, partition=boom.partition, offset=[boom.offset], all=False)
        await cli.dlq_redrive(chosen)
    assert "boom-1" in await wait_for_effects(runtime, {"boom-1"})
    records = await read_topic(kafka_bootstrap, Topics.LOAN_OVERDUE, 7, timeout=5)
    assert [json.loads(r.value)["subject"] for r in records].count("boom-1") == 1
