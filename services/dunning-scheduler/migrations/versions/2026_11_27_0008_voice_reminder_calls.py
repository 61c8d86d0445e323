"""Voice reminders the notification service placed, per borrower: an agent's claim counts them with the
agents' own calls against the borrower's call caps.

Revision ID: 2026_11_27_0008
Revises: 2026_11_27_0007
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "2026_11_27_0008"
down_revision = "2026_11_27_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voice_reminder_calls",
        sa.Column("reminder_id", sa.Text, primary_key=True),
        sa.Column("loan_id", sa.Text, nullable=False),
        sa.Column("borrower_id", sa.Text, nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True)),
        schema="scheduler",
    )
    op.create_index("ix_voice_reminder_calls_borrower", "voice_reminder_calls", ["borrower_id", "attempted_at"], schema="scheduler")


def downgrade() -> None:
    op.drop_table("voice_reminder_calls", schema="scheduler")
