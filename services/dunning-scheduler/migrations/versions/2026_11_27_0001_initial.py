"""The scheduler's first tables: policies, loans, cases and their history, timers, promises, holds,
agent tasks, and the outbox and inbox.

Revision ID: 2026_11_27_0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from dunning_messaging import create_messaging_tables

revision = "2026_11_27_0001"
down_revision = None
branch_labels = None
depends_on = None

S = "scheduler"


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=nullable)


def upgrade() -> None:
    create_messaging_tables(op, S)
    _policies_and_loans()
    _cases()
    _timers()
    _promises_holds_and_tasks()


def _policies_and_loans() -> None:
    op.create_table(
        "policies",
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("document", JSONB, nullable=False),
        _at("created_at"),
        _text("created_by", nullable=True),
        schema=S,
    )
    op.create_table(
        "loans",
        sa.Column("loan_id", sa.Text, primary_key=True),
        _text("borrower_id"), _text("lender"), _text("locale"), _text("timezone"), _text("region"),
        sa.Column("due_dates", JSONB, nullable=False),
        _at("booked_at"),
        schema=S,
    )


def _cases() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Uuid, primary_key=True),
        _text("loan_id"), _text("borrower_id"), _text("lender"), _text("product"), _text("currency"),
        _text("status"), _text("stage"),
        sa.Column("overdue_since", sa.Date, nullable=False),
        sa.Column("day_zero", sa.Date, nullable=False),
        sa.Column("days_past_due", sa.Integer, nullable=False),
        sa.Column("overdue_amount", sa.Numeric, nullable=False),
        sa.Column("penalty_accrued", sa.Numeric, nullable=False),
        sa.Column("outstanding_balance", sa.Numeric, nullable=False),
        sa.Column("broken_promises", sa.Integer, nullable=False),
        sa.Column("policy_version", sa.Integer, nullable=False),
        _at("as_of"), _at("opened_at"), _at("updated_at"), _at("resolved_at", True),
        _text("resolution", True), _at("paused_until", True), _text("pause_reason", True),
        schema=S,
    )
    op.create_index("ix_cases_loan_id", "cases", ["loan_id"], schema=S)
    op.create_index(
        "uq_cases_loan_unresolved", "cases", ["loan_id"], unique=True, schema=S,
        postgresql_where=sa.text("status <> 'resolved'"),
    )
    op.create_table(
        "case_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("case_id", sa.Uuid, nullable=False),
        _at("at"), _text("kind"), _text("stage", True),
        sa.Column("policy_version", sa.Integer),
        _text("reason"),
        sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        schema=S,
    )
    op.create_index("ix_case_history_case", "case_history", ["case_id", "id"], schema=S)


def _timers() -> None:
    op.create_table(
        "timers",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("reminder_id", sa.Uuid, nullable=False, unique=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("case_id", sa.Uuid),
        _text("loan_id"), _text("kind"), _at("due_at"),
        sa.Column("status", sa.Text, nullable=False, server_default=sa.text("'pending'")),
        sa.Column("payload", JSONB, nullable=False),
        _at("created_at"), _at("fired_at", True), _text("cancelled_reason", True),
        schema=S,
    )
    op.create_index("ix_timers_due", "timers", ["due_at"], schema=S, postgresql_where=sa.text("status = 'pending'"))
    op.create_index("ix_timers_case", "timers", ["case_id", "status"], schema=S)
    op.create_index(
        "ix_timers_loan_pending", "timers", ["loan_id"], schema=S, postgresql_where=sa.text("status = 'pending'")
    )


def _promises_holds_and_tasks() -> None:
    op.create_table(
        "promises",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("amount", sa.Numeric, nullable=False),
        sa.Column("promised_date", sa.Date, nullable=False),
        sa.Column("overdue_at_promise", sa.Numeric, nullable=False),
        _text("status"), _at("created_at"), _at("settled_at", True),
        schema=S,
    )
    op.create_table(
        "holds",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("case_id", sa.Uuid, nullable=False),
        _text("reason"), _text("note", True), _at("expires_at"), _at("created_at"),
        _text("created_by", True), _at("released_at", True),
        schema=S,
    )
    op.create_table(
        "agent_tasks",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("timer_id", sa.BigInteger, nullable=False, unique=True),
        sa.Column("case_id", sa.Uuid, nullable=False),
        _text("loan_id"), _text("kind"), _text("template"), _text("stage"),
        sa.Column("priority", sa.Numeric, nullable=False),
        _text("status"), _at("created_at"),
        schema=S,
    )
    for table in ("promises", "holds", "agent_tasks"):
        op.create_index(f"ix_{table}_case_id", table, ["case_id"], schema=S)
    op.create_index("ix_agent_tasks_queue", "agent_tasks", ["status", "priority"], schema=S)


def downgrade() -> None:
    for table in ("agent_tasks", "holds", "promises", "timers", "case_history", "cases", "loans", "policies"):
        op.drop_table(table, schema=S)
    op.drop_table("inbox", schema=S)
    op.drop_table("outbox", schema=S)
