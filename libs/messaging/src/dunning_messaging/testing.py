"""For tests of code on the messaging tables: a new database with those tables in the given schemas."""

import uuid
from collections.abc import Callable

import asyncpg
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from dunning_messaging.tables import create_messaging_tables


async def database_with_messaging_tables(
    admin_url: str, prefix: str, schemas: list[str], *, also: Callable[[Operations], None] | None = None
) -> str:
    """Its SQLAlchemy (asyncpg) URL; `also` adds a test's own tables with the same Alembic operations."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    url = admin_url.replace("postgresql://", "postgresql+asyncpg://").replace("/postgres?", f"/{name}?")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            for schema in schemas:
                await connection.execute(text(f"CREATE SCHEMA {schema}"))
            await connection.run_sync(lambda sync: _create(Operations(MigrationContext.configure(sync)), schemas, also))
    finally:
        await engine.dispose()
    return url


def _create(operations: Operations, schemas: list[str], also: Callable[[Operations], None] | None) -> None:
    for schema in schemas:
        create_messaging_tables(operations, schema)
    if also is not None:
        also(operations)
