"""When each piece of evidence was recorded here, so the evidence file can be rebuilt exactly as it was
at any moment (the one a demand letter or a court filing cites).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("overdue_history", "contact_attempts")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
            schema="legal",
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "recorded_at", schema="legal")
