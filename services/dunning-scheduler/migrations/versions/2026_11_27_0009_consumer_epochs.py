"""The broker epoch each consumer group committed each partition's offset under (libs/messaging): an offset
committed under another epoch is not trusted after a broker that lost its data, and the partition is read
from its start. A database made after the table joined the first migration has it already.

Revision ID: 2026_11_27_0009
Revises: 2026_11_27_0008
Create Date: 2026-11-27
"""

from alembic import op

from dunning_messaging import create_consumer_epochs

revision = "2026_11_27_0009"
down_revision = "2026_11_27_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_consumer_epochs(op, "scheduler")


def downgrade() -> None:
    op.drop_table("consumer_epochs", if_exists=True, schema="scheduler")
