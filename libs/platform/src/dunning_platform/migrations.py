"""The body of every service's alembic env.py: async engine, the service's schema, version table in it."""

import asyncio
import os

from alembic import context
from sqlalchemy import MetaData, pool, text
from sqlalchemy.ext.asyncio import create_async_engine


def run_alembic_env(metadata: MetaData, schema: str, url_env: str) -> None:
    url = os.environ.get(url_env) or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(f"{url_env} is not set")
    asyncio.run(_run_online(url, metadata, schema))


async def _run_online(url: str, metadata: MetaData, schema: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync, metadata, schema)
        await connection.commit()
    await engine.dispose()


def _run_sync(connection, metadata: MetaData, schema: str) -> None:
    # The bootstrap creates the schema; only a fresh external database needs it made here, which
    # requires CREATE on the database, a privilege the service roles are otherwise not given.
    if not connection.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).scalar():
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=schema,
        include_schemas=False,
    )
    with context.begin_transaction():
        # Several replicas may start together: one migrates, the others wait on this lock.
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": f"migrate:{schema}"})
        context.run_migrations()
