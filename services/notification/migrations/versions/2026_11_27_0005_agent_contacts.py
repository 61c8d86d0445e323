"""Agents' calls and field visits reported by the scheduler (ContactAttempted): the guard counts them with
the reminders against the borrower's caps, across the platform. Kept only as long as the caps look back.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_contacts",
        sa.Column("task_id", sa.Text(), primary_key=True),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("loan_id", sa.Text(), nullable=False),
        sa.Column("borrower_id", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        schema="notification",
    )
    op.create_index("ix_agent_contacts_borrower", "agent_contacts", ["borrower_id", "occurred_at"], schema="notification")


def downgrade() -> None:
    op.drop_table("agent_contacts", schema="notification")
