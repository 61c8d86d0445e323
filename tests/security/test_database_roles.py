"""One database role per service, on the running platform's own database: each role works in its schema
and is refused, for reading and for writing, in every table of every other service's schema.
(tests/system/test_database_bootstrap.py proves the grants on empty bootstrapped databases; this proves
them on the platform as `make run` leaves it, migrated, with every real table.)"""

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from dunning_platform.devstack.bootstrap import DATABASE
from dunning_platform.devstack.postgres import asyncpg_dsn, with_login
from dunning_platform.devstack.services import SERVICES
from dunning_platform.devstack.state import role_passwords
from tests.security.support import admin_dsn


def role_url(platform, svc) -> str:
    passwords = role_passwords(platform.state_dir / "secrets.json", [s.role for s in SERVICES])
    return with_login(admin_dsn(platform), user=svc.role, password=passwords[svc.role], database=DATABASE)


async def tables_by_schema(platform) -> dict[str, dict[str, str]]:
    """Each service schema's tables, each with one of its columns (to aim an UPDATE at)."""
    connection = await asyncpg.connect(admin_dsn(platform))
    try:
        rows = await connection.fetch(
            "SELECT DISTINCT ON (table_schema, table_name) table_schema, table_name, column_name"
            " FROM information_schema.columns c JOIN pg_tables t"
            " ON t.schemaname = c.table_schema AND t.tablename = c.table_name"
            " WHERE table_schema = ANY($1::text[]) ORDER BY table_schema, table_name, ordinal_position",
            [svc.schema for svc in SERVICES],
        )
    finally:
        await connection.close()
    tables: dict[str, dict[str, str]] = {svc.schema: {} for svc in SERVICES}
    for row in rows:
        tables[row["table_schema"]][row["table_name"]] = row["column_name"]
    return tables


async def refused(connection: asyncpg.Connection, statement: str) -> bool:
    """Whether the server refuses `statement` for lack of privilege. Always rolled back: should a grant be
    missing, the test must not delete another service's data."""
    transaction = connection.transaction()
    await transaction.start()
    try:
        await connection.execute(statement)
    except asyncpg.InsufficientPrivilegeError:
        return True
    except asyncpg.PostgresError:
        return False  # past the privilege check, e.g. stopped by a NOT NULL constraint
    finally:
        await transaction.rollback()
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
            for table, column in tables[other.schema].items():
                target = f'"{other.schema}"."{table}"'
                statements += [
                    f"SELECT * FROM {target} LIMIT 1",
                    f"INSERT INTO {target} DEFAULT VALUES",
                    f'UPDATE {target} SET "{column}" = NULL',
                    f"DELETE FROM {target}",
                    f"TRUNCATE {target}",
                ]
            allowed += [statement for statement in statements if not await refused(connection, statement)]
    finally:
        await connection.close()

    assert not allowed, f"{svc.role} was allowed:\n" + "\n".join(allowed)


POWERS = ("rolsuper", "rolcreaterole", "rolcreatedb", "rolbypassrls", "rolreplication")


@pytest.mark.slow
async def test_service_roles_hold_no_power_beyond_their_schema(platform):
    connection = await asyncpg.connect(admin_dsn(platform))
    try:
        roles = await connection.fetch(
            f"SELECT rolname, {', '.join(POWERS)} FROM pg_roles"
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
        powers = [name for name in POWERS if role[name]]
        assert not powers, f"{role['rolname']} has {powers}"
    assert not memberships, f"service roles are members of other roles: {[dict(m) for m in memberships]}"
