"""When the loan's booking was recorded here, so a file rebuilt as of an earlier moment leaves out a
booking that arrived later.

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
    op.add_column("loans", sa.Column("booking_recorded_at", sa.DateTime(timezone=True)), schema="legal")


def downgrade() -> None:
    op.drop_column("loans", "booking_recorded_at", schema="legal")
