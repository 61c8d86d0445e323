"""A reminder remembers the provider that may already hold its message; pending reminders by borrower.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reminders", sa.Column("pinned_provider", sa.Text), schema="notification")
    op.create_index(
        "ix_reminders_pending_borrower",
        "reminders",
        ["borrower_id"],
        schema="notification",
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_reminders_pending_borrower", "reminders", schema="notification")
    op.drop_column("reminders", "pinned_provider", schema="notification")
