"""The fixtures every integration test stands on: a broker per module, a migrated database per test."""

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from dunning_platform.devstack.postgres import asyncpg_dsn
from dunning_platform.devstack.services import SERVICES


async def test_the_module_broker_carries_a_message_from_producer_to_consumer(kafka_bootstrap):
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    consumer = AIOKafkaConsumer(
        "fixtures.check", bootstrap_servers=kafka_bootstrap, group_id="fixtures", auto_offset_reset="earliest"
    )
    await producer.start()
    try:
        await producer.send_and_wait("fixtures.check", b"hello", key=b"L-1")
    finally:
        await producer.stop()
    await consumer.start()
    try:
        message = await consumer.getone()
    finally:
        await consumer.stop()
    assert (message.key, message.value) == (b"L-1", b"hello")


async def test_each_service_database_is_migrated_in_the_services_own_schema(service_database):
    for svc in SERVICES:
        connection = await asyncpg.connect(asyncpg_dsn(await service_database(svc.name)))
        try:
            version = await connection.fetchval(f"SELECT version_num FROM {svc.schema}.alembic_version")
            assert version, svc.name
            assert await connection.fetchval("SELECT current_user") == svc.role
        finally:
            await connection.close()


async def test_two_databases_of_one_service_do_not_share_rows(service_database):
    first, second = await service_database("legal-referral"), await service_database("legal-referral")
    assert first != second
    for url, expected in ((first, 1), (second, 0)):
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            if expected:
                await connection.execute("CREATE TABLE marker (id int)")
            exists = await connection.fetchval("SELECT count(*) FROM pg_tables WHERE tablename = 'marker'")
            assert exists == expected
        finally:
            await connection.close()


def test_tokens_carry_the_scopes_they_were_issued_with(tokens_file, admin_token, make_token):
    from dunning_platform.auth import TokenStore

    store = TokenStore(tokens_file)
    reader = make_token("cases:read", lender="lender-a")
    assert store.authenticate(admin_token).allows("legal:write")
    assert store.authenticate(reader).allows("cases:read")
    assert not store.authenticate(reader).allows("cases:write")
    assert store.authenticate(reader).lender == "lender-a"
