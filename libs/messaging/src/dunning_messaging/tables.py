"""The tables the platform keeps in every service schema (outbox, inbox, audit log, consumer epochs),
created by the service's first migration."""

from dataclasses import dataclass

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Identity, Index, Integer, LargeBinary, MetaData, Table, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB


def _outbox_columns() -> list:
    return [
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("topic", Text, nullable=False),
        Column("key", LargeBinary),
        Column("value", LargeBinary, nullable=False),
        # Encrypted with the service's PII key: raw inbound events and dead letters carry contact data.
        Column("sealed", Boolean, nullable=False, server_default=text("false")),
        Column("headers", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
        Column("event_type", Text),
        Column("event_id", Text),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
    ]


def _inbox_columns() -> list:
    return [
        Column("source", Text, primary_key=True),
        Column("event_id", Text, primary_key=True),
        Column("event_type", Text),
        Column("topic", Text),
        Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


def _audit_columns() -> list:
    return [
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("token_id", Text),
        Column("method", Text, nullable=False),
        Column("path", Text, nullable=False),
        Column("status", Integer, nullable=False),
        Column("trace_id", Text),
    ]


def _consumer_epochs_columns() -> list:
    # The broker epoch a consumer believed in when it last committed a partition's offset: the broker
    # (Tansu) drops offset-commit metadata, and this must outlive a SIGKILL.
    return [
        Column("group_id", Text, primary_key=True),
        Column("topic", Text, primary_key=True),
        Column("partition", Integer, primary_key=True),
        Column("epoch", Text),
        Column("tagged_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table
    audit_log: Table
    consumer_epochs: Table


def messaging_tables(metadata: MetaData) -> MessagingTables:
    outbox = Table("outbox", metadata, *_outbox_columns())
    Index("ix_outbox_unpublished", outbox.c.id, postgresql_where=outbox.c.published_at.is_(None))
    Index("ix_outbox_created_at", outbox.c.created_at)
    inbox = Table("inbox", metadata, *_inbox_columns())
    audit_log = Table("audit_log", metadata, *_audit_columns())
    consumer_epochs = Table("consumer_epochs", metadata, *_consumer_epochs_columns())
    return MessagingTables(outbox=outbox, inbox=inbox, audit_log=audit_log, consumer_epochs=consumer_epochs)


def create_messaging_tables(op, schema: str) -> None:
    """For a service's first Alembic migration: outbox, inbox, the audit log of API writes, and the
    broker epochs consumers committed under."""
    op.create_table("outbox", *_outbox_columns(), schema=schema)
    op.create_index(
        "ix_outbox_unpublished", "outbox", ["id"], schema=schema, postgresql_where=text("published_at IS NULL")
    )
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"], schema=schema)
    op.create_table("inbox", *_inbox_columns(), schema=schema)
    op.create_table("audit_log", *_audit_columns(), schema=schema)
    create_consumer_epochs(op, schema)


def create_consumer_epochs(op, schema: str) -> None:
    """Also for a later migration of a database made before the table existed: a fresh one has it from
    its first migration already, hence IF NOT EXISTS."""
    op.create_table("consumer_epochs", *_consumer_epochs_columns(), schema=schema, if_not_exists=True)
