"""The async engine of one service: its own role, its own schema, nothing else."""

import re

from sqlalchemy import MetaData, literal_column
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def written_out(state: str) -> ColumnElement:
    """A state compared in a statement's text, not bound as a parameter. A partial index's predicate
    (`WHERE status = 'pending'`) is matched only by a constant: once PostgreSQL settles on a generic plan
    for a prepared statement (asyncpg prepares every one), a bound status cannot use the index, and the
    query scans the whole table, every row ever written, however few are pending."""
    if not re.fullmatch(r"[a-z_]+", state):
        raise ValueError(f"not a state name: {state!r}")
    return literal_column(f"'{state}'")


def make_engine(url: str, schema: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": {"search_path": schema, "application_name": schema}},
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)
