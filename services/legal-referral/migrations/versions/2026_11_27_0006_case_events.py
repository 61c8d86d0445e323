"""Case events (promises, holds, repayment plans) kept for the evidence file, with the time each was
recorded here so a file rebuilt as of an earlier moment leaves out what came later.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = "legal"
AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "case_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("loan_id", sa.Text, nullable=False),
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("occurred_at", AWARE, nullable=False),
        sa.Column("recorded_at", AWARE, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_case_events_loan_id", "case_events", ["loan_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("case_events", schema=SCHEMA)
