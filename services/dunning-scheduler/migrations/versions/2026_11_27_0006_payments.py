"""Payments received per loan, so a promise or a plan is judged by what was paid rather than by the fall
of the overdue amount (which penalty accrual and new instalments push back up); and why and by whom a
hold was released.

Revision ID: 2026_11_27_0006
Revises: 2026_11_27_0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "2026_11_27_0006"
down_revision = "2026_11_27_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.Text, primary_key=True),
        sa.Column("loan_id", sa.Text, nullable=False),
        sa.Column("amount", sa.Numeric, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        schema="scheduler",
    )
    op.create_index("ix_payments_loan_paid", "payments", ["loan_id", "paid_at"], schema="scheduler")
    op.add_column("holds", sa.Column("released_because", sa.Text), schema="scheduler")
    op.add_column("holds", sa.Column("released_by", sa.Text), schema="scheduler")


def downgrade() -> None:
    op.drop_column("holds", "released_by", schema="scheduler")
    op.drop_column("holds", "released_because", schema="scheduler")
    op.drop_table("payments", schema="scheduler")
