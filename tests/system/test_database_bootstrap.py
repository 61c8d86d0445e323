"""The database each service gets: its own role and schema, and nothing of the others'."""

import asyncpg
import pytest

from dunning_platform.devstack.bootstrap import bootstrap
from dunning_platform.devstack.postgres import asyncpg_dsn


async def connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(asyncpg_dsn(url))


async def test_a_service_role_works_in_its_own_schema(service_database):
    url = await service_database("ingestion", migrated=False)
    connection = await connect(url)
    try:
        await connection.execute("CREATE TABLE loans (id text PRIMARY KEY)")
        await connection.execute("INSERT INTO loans VALUES ('L-1')")
        assert await connection.fetchval("SELECT current_schema()") == "ingestion"
        assert await connection.fetchval("SELECT count(*) FROM ingestion.loans") == 1
    finally:
        await connection.close()


async def test_a_service_role_is_refused_another_services_schema(service_database, database_factory):
    urls = await database_factory.urls(await service_database("ingestion", migrated=False))
    owner = await connect(urls["ingestion"])
    intruder = await connect(urls["dunning-scheduler"])
    try:
        await owner.execute("CREATE TABLE loans (id text PRIMARY KEY)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await intruder.fetch("SELECT * FROM ingestion.loans")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await intruder.execute("CREATE TABLE ingestion.stolen (id int)")
    finally:
        await owner.close()
        await intruder.close()


async def test_the_public_schema_and_new_schemas_are_closed_to_services(service_database):
    connection = await connect(await service_database("notification", migrated=False))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("CREATE TABLE public.anything (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("CREATE SCHEMA elsewhere")
    finally:
        await connection.close()


async def test_bootstrap_runs_again_without_harm_and_keeps_data(postgres_admin_url, database_factory):
    database = "test_bootstrap_twice"
    first = await bootstrap(postgres_admin_url, database_factory.passwords, database=database)
    database_factory.created.append(database)
    connection = await connect(first["legal-referral"])
    await connection.execute("CREATE TABLE cases (id int)")
    await connection.execute("INSERT INTO cases VALUES (1)")
    await connection.close()

    second = await bootstrap(postgres_admin_url, database_factory.passwords, database=database)

    assert second == first
    connection = await connect(second["legal-referral"])
    try:
        assert await connection.fetchval("SELECT count(*) FROM cases") == 1
    finally:
        await connection.close()
