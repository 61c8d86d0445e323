"""The ReminderRequested data of a reminder timer, serialised once when planned, so firing embeds it
in an envelope without converting or parsing anything.

Revision ID: 2026_11_27_0002
Revises: 2026_11_27_0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "2026_11_27_0002"
down_revision = "2026_11_27_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("timers", sa.Column("event", sa.Text), schema="scheduler")


def downgrade() -> None:
    op.drop_column("timers", "event", schema="scheduler")
