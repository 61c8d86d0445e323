"""Reminders in flight (leased) by borrower: each claim reads them to leave those borrowers out.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only the few reminders a dispatcher holds have a lease: the index stays small however many wait.
    op.create_index(
        "ix_reminders_leased_borrower",
        "reminders",
        ["borrower_id"],
        schema="notification",
        postgresql_where=sa.text("status = 'pending' AND lease_until IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_reminders_leased_borrower", "reminders", schema="notification")
