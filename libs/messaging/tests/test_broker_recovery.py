"""A running service refills a broker that lost its data, against a real Tansu stopped and started again
on the same port while the runtime keeps running."""

import logging
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import Column, Integer, Table, Text, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import create_async_engine

from dunning_contracts import CloudEvent, Topics
from dunning_contracts.events import LoanClosed, OverdueCleared
from dunning_messaging import ConsumerSpec, Runtime, messaging_tables
from dunning_messaging.testing import database_with_messaging_tables
from dunning_platform.db import service_metadata
from dunning_platform.devstack.broker import start_tansu
from dunning_platform.devstack.processes import free_port
from dunning_platform.settings import ServiceSettings
from dunning_platform.testing import async_wait_for

pytestmark = pytest.mark.slow

SCHEMA = "refilltest"
metadata = service_metadata(SCHEMA)
tables = messaging_tables(metadata)
# How many times each OverdueCleared was applied downstream: the inbox must keep every count at 1.
applied = Table("applied", metadata, Column("loan_id", Text, primary_key=True), Column("times", Integer, nullable=False))


async def on_loan_closed(uow, event, data: LoanClosed) -> None:
    uow.emit("OverdueCleared", OverdueCleared(loan_id=data.loan_id, reason="closed", cleared_at=data.closed_at))


async def on_overdue_cleared(uow, event, data: OverdueCleared) -> None:
    statement = insert(applied).values(loan_id=data.loan_id, times=1)
    await uow.session.execute(statement.on_conflict_do_update(index_elements=["loan_id"], set_={"times": applied.c.times + 1}))


@pytest.fixture
async def database_url(postgres_admin_url):
    return await database_with_messaging_tables(postgres_admin_url, "refill", [SCHEMA], also=_applied_table)


def _applied_table(operations) -> None:
    operations.create_table(
        "applied", Column("loan_id", Text, primary_key=True), Column("times", Integer, nullable=False), schema=SCHEMA
    )


@pytest.fixture
def broker(tmp_path):
    """A Tansu of this test's own, which the test stops and starts again on the same port."""

    class Broker:
        port = free_port()
        bootstrap = f"127.0.0.1:{port}"
        child = start_tansu(port, tmp_path / "tansu-1.log")

        def restart_empty(self) -> None:
            self.child.stop(timeout=5)
            self.child = start_tansu(self.port, tmp_path / "tansu-2.log")

    broker = Broker()
    yield broker
    broker.child.stop(timeout=5)


def a_replica(database_url: str, broker, tmp_path) -> Runtime:
    settings = ServiceSettings(
        database_url=database_url,
        kafka_bootstrap=broker.bootstrap,
        tokens_file=tmp_path / "tokens.json",
        source="urn:test:refill",
        broker_check_seconds=0.5,
        broker_recovery_grace_seconds=1.5,
    )
    consumers = [
        ConsumerSpec("refill-closures", [Topics.REPAYMENT_EVENTS], {"LoanClosed": on_loan_closed}),
        ConsumerSpec("refill-clearances", [Topics.LOAN_OVERDUE], {"OverdueCleared": on_overdue_cleared}),
    ]
    return Runtime(settings, tables, service="refill-test", schema=SCHEMA, consumers=consumers)


@pytest.fixture
async def runtime(database_url, broker, tmp_path):
    runtime = a_replica(database_url, broker, tmp_path)
    await runtime.start()
    yield runtime
    await runtime.stop()


@pytest.fixture
async def two_replicas(database_url, broker, tmp_path):
    """Two processes of one service: one outbox, one consumer group per topic, two relays."""
    replicas = [a_replica(database_url, broker, tmp_path) for _ in range(2)]
    for replica in replicas:
        await replica.start()
    yield replicas
    for replica in replicas:
        await replica.stop()


def closed(loan_id: str) -> bytes:
    now = datetime.now(UTC)
    return CloudEvent(
        specversion="1.0", id=str(uuid.uuid4()), source="urn:test:lender", type="LoanClosed", time=now, subject=loan_id,
        data={"loan_id": loan_id, "reason": "repaid", "closed_at": now.isoformat()},
    ).to_json_bytes()


async def send_closures(bootstrap: str, loans: list[str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for loan in loans:
            await producer.send_and_wait(Topics.REPAYMENT_EVENTS, closed(loan), key=loan.encode())
    finally:
        await producer.stop()


async def times_applied(runtime) -> dict[str, int]:
    async with runtime.session_factory() as session:
        return dict((await session.execute(select(applied.c.loan_id, applied.c.times))).all())


async def all_applied(runtime, loans: list[str]) -> dict[str, int]:
    async def done():
        counts = await times_applied(runtime)
        return counts if set(loans) <= set(counts) else None

    return await async_wait_for(done, timeout=60, what=f"{len(loans)} clearances applied")


async def clearances_on_the_broker(bootstrap: str) -> list[tuple[int, int, str]]:
    """(partition, offset, loan) of every OverdueCleared on the broker, oldest first per partition."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await reader.start()
    try:
        await reader.topics()  # fresh metadata
        partitions = [TopicPartition(Topics.LOAN_OVERDUE, p) for p in reader.partitions_for_topic(Topics.LOAN_OVERDUE) or ()]
        reader.assign(partitions)
        ends = await reader.end_offsets(partitions)
        await reader.seek_to_beginning(*partitions)
        found = []
        while [p for p in partitions if await reader.position(p) < ends[p]]:
            for records in (await reader.getmany(timeout_ms=1000)).values():
                found += [(r.partition, r.offset, r.key.decode()) for r in records]
        return sorted(found)
    finally:
        await reader.stop()


async def test_a_running_service_refills_a_broker_that_lost_its_data_and_applies_nothing_twice(runtime, broker):
    before = [f"L-before-{i}" for i in range(40)]
    await send_closures(broker.bootstrap, before)
    await all_applied(runtime, before)

    broker.restart_empty()
    after = [f"L-after-{i}" for i in range(10)]
    await send_closures(broker.bootstrap, after)

    counts = await all_applied(runtime, before + after)
    on_broker = await async_wait_for(
        lambda: _holding(broker.bootstrap, set(before + after)), timeout=30, what="every clearance on the new broker"
    )
    assert {loan for _, _, loan in on_broker} >= set(before + after)
    assert set(counts.values()) == {1}
    assert _republished_before_newer(on_broker, before, after)


async def test_with_two_replicas_one_relay_refills_the_broker_and_nothing_is_applied_twice(two_replicas, broker, caplog):
    caplog.set_level(logging.WARNING, logger="dunning_messaging")
    before = [f"L-two-{i}" for i in range(40)]
    await send_closures(broker.bootstrap, before)
    await all_applied(two_replicas[0], before)

    broker.restart_empty()
    after = [f"L-two-after-{i}" for i in range(10)]
    await send_closures(broker.bootstrap, after)

    counts = await all_applied(two_replicas[0], before + after)
    await async_wait_for(
        lambda: _holding(broker.bootstrap, set(before + after)), timeout=30, what="every clearance on the new broker"
    )
    assert set(counts.values()) == {1}
    refills = [r for r in caplog.records if "publishing" in r.getMessage() and "again" in r.getMessage()]
    rewinds = [r for r in caplog.records if "read every partition again" in r.getMessage()]
    assert len(refills) == 1
    assert len(rewinds) >= 2  # each replica rewinds its own consumers


async def _holding(bootstrap: str, loans: set[str]):
    found = await clearances_on_the_broker(bootstrap)
    return found if loans <= {loan for _, _, loan in found} else None


def _republished_before_newer(records: list[tuple[int, int, str]], before: list[str], after: list[str]) -> bool:
    """In every partition, each event emitted before the loss comes first time ahead of any emitted after."""
    for partition in {p for p, _, _ in records}:
        loans = [loan for p, _, loan in records if p == partition]
        firsts = {loan: loans.index(loan) for loan in set(loans)}
        latest_old = max((firsts[loan] for loan in before if loan in firsts), default=-1)
        earliest_new = min((firsts[loan] for loan in after if loan in firsts), default=len(loans))
        if latest_old > earliest_new:
            return False
    return True


async def test_a_new_process_reads_again_from_the_start_what_a_process_unaware_of_the_loss_committed(database_url, broker, tmp_path):
    before = [f"L-old-log-{i}" for i in range(40)]
    first = a_replica(database_url, broker, tmp_path)
    await first.start()
    try:
        await send_closures(broker.bootstrap, before)
        await all_applied(first, before)
        old_epoch = await first.marker.read()
    finally:
        await first.stop()
    assert set((await epochs_committed_under(first, "refill-closures")).values()) == {old_epoch}

    broker.restart_empty()
    after = [f"L-new-log-{i}" for i in range(40)]
    await send_closures(broker.bootstrap, after)
    # What a process that has not noticed the loss leaves behind before a SIGKILL: offsets of the old log
    # committed on the new broker, past events it never read, under the epoch it still believes in.
    skipped = await commit_midway(broker.bootstrap, "refill-closures", Topics.REPAYMENT_EVENTS)
    assert skipped > 0

    second = a_replica(database_url, broker, tmp_path)
    await second.start()
    try:
        counts = await all_applied(second, before + after)
        new_epoch = await second.marker.read()
        assert set(counts.values()) == {1}
        assert new_epoch != old_epoch
        assert set((await epochs_committed_under(second, "refill-closures")).values()) == {new_epoch}
    finally:
        await second.stop()


async def epochs_committed_under(runtime, group_id: str) -> dict[tuple[str, int], str | None]:
    epochs = tables.consumer_epochs
    query = select(epochs.c.topic, epochs.c.partition, epochs.c.epoch).where(epochs.c.group_id == group_id)
    engine = create_async_engine(runtime.settings.database_url.get_secret_value())
    try:
        async with engine.connect() as connection:
            return {(r.topic, r.partition): r.epoch for r in (await connection.execute(query)).all()}
    finally:
        await engine.dispose()


async def commit_midway(bootstrap: str, group_id: str, topic: str) -> int:
    """Commit for the group, in every partition, the offset halfway along its log; returns how many
    records lie before those offsets."""
    committer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    await committer.start()
    try:
        await committer.topics()  # fresh metadata
        partitions = [TopicPartition(topic, p) for p in committer.partitions_for_topic(topic) or ()]
        committer.assign(partitions)
        ends = await committer.end_offsets(partitions)
        await committer.commit({p: ends[p] // 2 for p in partitions})
        return sum([await committer.committed(p) or 0 for p in partitions])
    finally:
        await committer.stop()
