"""Repayment plans (instalment arrangements) that pause the policy while they are kept, and a history of
the decisions about a loan that has no case (pre-due reminders cancelled, a failed auto-debit).

Revision ID: 2026_11_27_0005
Revises: 2026_11_27_0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "2026_11_27_0005"
down_revision = "2026_11_27_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("loan_id", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("total", sa.Numeric, nullable=False),
        # [{"seq", "due_date", "amount"}], amounts as strings: Decimal end to end.
        sa.Column("installments", postgresql.JSONB, nullable=False),
        sa.Column("overdue_at_plan", sa.Numeric, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("kept_installments", sa.Integer, nullable=False, server_default="0"),
        sa.Column("missed_seq", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text),
        sa.Column("settled_at", sa.DateTime(timezone=True)),
        sa.Column("settled_because", sa.Text),
        schema="scheduler",
    )
    op.create_index("ix_plans_case_id", "plans", ["case_id"], schema="scheduler")
    # One active plan per case: a second POST while one runs is a conflict, even from two agents at once.
    op.create_index(
        "uq_plans_case_active", "plans", ["case_id"], unique=True,
        postgresql_where=sa.text("status = 'active'"), schema="scheduler",
    )
    op.create_table(
        "loan_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("loan_id", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("details", postgresql.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        schema="scheduler",
    )
    op.create_index("ix_loan_history_loan", "loan_history", ["loan_id", "id"], schema="scheduler")


def downgrade() -> None:
    op.drop_table("loan_history", schema="scheduler")
    op.drop_table("plans", schema="scheduler")
