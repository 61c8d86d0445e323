"""Clearances that arrived before any case of their loan, so a late LoanOverdue cannot open a case for a
loan already paid.

Revision ID: 2026_11_27_0004
Revises: 2026_11_27_0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "2026_11_27_0004"
down_revision = "2026_11_27_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "early_clearances",
        sa.Column("loan_id", sa.Text, primary_key=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        schema="scheduler",
    )


def downgrade() -> None:
    op.drop_table("early_clearances", schema="scheduler")
