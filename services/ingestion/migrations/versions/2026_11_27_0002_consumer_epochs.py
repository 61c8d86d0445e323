"""The broker epoch each consumer group committed each partition's offset under (libs/messaging): an offset
committed under another epoch is not trusted after a broker that lost its data, and the partition is read
from its start. A database made after the table joined the first migration has it already.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op

from dunning_messaging import create_consumer_epochs

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_consumer_epochs(op, "ingestion")


def downgrade() -> None:
    op.drop_table("consumer_epochs", if_exists=True, schema="ingestion")
