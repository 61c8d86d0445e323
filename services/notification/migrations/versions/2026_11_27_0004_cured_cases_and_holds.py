"""The cases a cure closed (their reminders stay suppressed, later ones go), the scheduler's holds, and
contact history by loan (retention counts from a loan's last attempt).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("loans", sa.Column("cleared_cases", ARRAY(sa.Text())), schema="notification")
    op.create_table(
        "loan_holds",
        sa.Column("hold_id", sa.Text(), primary_key=True),
        sa.Column("loan_id", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True)),
        schema="notification",
    )
    op.create_index("ix_loan_holds_loan", "loan_holds", ["loan_id"], schema="notification")
    # Retention is judged per loan (its last attempt), and a purge deletes a loan's rows together.
    op.create_index("ix_contact_attempts_loan", "contact_attempts", ["loan_id", "retain_until"], schema="notification")


def downgrade() -> None:
    op.drop_index("ix_contact_attempts_loan", "contact_attempts", schema="notification")
    op.drop_table("loan_holds", schema="notification")
    op.drop_column("loans", "cleared_cases", schema="notification")
