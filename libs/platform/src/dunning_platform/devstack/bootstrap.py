"""Database, roles and schemas, created as the admin and safe to run again: one LOGIN role per service,
one schema per service owned by it, nothing granted across schemas, the public schema closed."""

import asyncpg

from dunning_platform.devstack.postgres import asyncpg_dsn, on_database, with_login
from dunning_platform.devstack.services import SERVICES, Service

DATABASE = "dunning"

# Roles are cluster-wide and several bootstraps (test sessions, make run) may share a cluster.
_BOOTSTRAP_LOCK = 0x64756E6E  # "dunn"


async def bootstrap(
    admin_url: str,
    passwords: dict[str, str],
    *,
    database: str = DATABASE,
    services: tuple[Service, ...] = SERVICES,
) -> dict[str, str]:
    """Make `database` ready for the services; return each service's own URL, keyed by service name."""
    admin = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await admin.execute("SELECT pg_advisory_lock($1)", _BOOTSTRAP_LOCK)
        for svc in services:
            await _ensure_role(admin, svc.role, passwords[svc.role], svc.schema)
        await _ensure_database(admin, database)
        await _grant_connect(admin, database, services)
        await _prepare_schemas(admin_url, database, services)
    finally:
        await admin.close()
    return {
        svc.name: with_login(admin_url, user=svc.role, password=passwords[svc.role], database=database)
        for svc in services
    }


async def _ensure_role(admin: asyncpg.Connection, role: str, password: str, schema: str) -> None:
    exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
    verb = "ALTER" if exists else "CREATE"
    # No superuser, no role or database creation: a service can only use what it owns.
    await admin.execute(
        f"{verb} ROLE {_ident(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT"
        f" PASSWORD {_literal(password)}"
    )
    await admin.execute(f"ALTER ROLE {_ident(role)} SET search_path = {_ident(schema)}")


async def _ensure_database(admin: asyncpg.Connection, database: str) -> None:
    if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
        await admin.execute(f"CREATE DATABASE {_ident(database)}")
    await admin.execute(f"REVOKE ALL ON DATABASE {_ident(database)} FROM PUBLIC")


async def _grant_connect(admin: asyncpg.Connection, database: str, services: tuple[Service, ...]) -> None:
    for svc in services:
        # TEMPORARY is session-private, so it cannot leak between services; CREATE (new schemas) is not given.
        await admin.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {_ident(database)} TO {_ident(svc.role)}")
        await admin.execute(f"REVOKE CREATE ON DATABASE {_ident(database)} FROM {_ident(svc.role)}")


async def _prepare_schemas(admin_url: str, database: str, services: tuple[Service, ...]) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(on_database(admin_url, database)))
    try:
        await connection.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        for svc in services:
            schema, role = _ident(svc.schema), _ident(svc.role)
            await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {role}")
            await connection.execute(f"ALTER SCHEMA {schema} OWNER TO {role}")
            await connection.execute(f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")
    finally:
        await connection.close()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
