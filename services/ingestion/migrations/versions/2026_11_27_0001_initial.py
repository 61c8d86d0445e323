"""The loan ledger: loans, installments, payments, bounced debits, parked events, sweep diary.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from dunning_messaging import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "ingestion"
ZERO = sa.text("0")


def money(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.Numeric(), nullable=False, server_default=ZERO, **kw)


def upgrade() -> None:
    create_messaging_tables(op, SCHEMA)
    _loans()
    _installments()
    _payments()
    _repayment_failures()
    _parked_events()
    _aging_sweeps()


def _loans() -> None:
    op.create_table(
        "loans",
        sa.Column("loan_id", sa.Text(), primary_key=True),
        sa.Column("lender", sa.Text(), nullable=False),
        sa.Column("product", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("minor_digits", sa.Integer(), nullable=False),
        sa.Column("principal", sa.Numeric(), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("borrower_id", sa.Text(), nullable=False),
        sa.Column("locale", sa.Text(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("penalty_rate_daily", sa.Numeric(), nullable=False),
        sa.Column("waterfall", sa.Text(), nullable=False),
        sa.Column("schedule_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("schedule_event_id", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("close_reason", sa.Text()),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False, server_default=ZERO),
        sa.Column("overdue_since", sa.Date()),
        money("overdue_amount"),
        money("penalty_accrued"),
        money("penalty_outstanding"),
        money("outstanding_balance"),
        money("credit_balance"),
        sa.Column("next_review_on", sa.Date()),
        money("reported_overdue"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("loan_id", name="pk_loans"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_loans_next_review_on", "loans", ["next_review_on"], schema=SCHEMA,
        postgresql_where=sa.text("closed_at IS NULL"),
    )


def _installments() -> None:
    op.create_table(
        "installments",
        sa.Column("loan_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("principal_due", sa.Numeric(), nullable=False),
        sa.Column("interest_due", sa.Numeric(), nullable=False),
        money("principal_paid"),
        money("interest_paid"),
        money("penalty_paid"),
        money("penalty_accrued"),
        sa.Column("accrued_through", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("loan_id", "seq", name="pk_installments"),
        schema=SCHEMA,
    )


def _payments() -> None:
    op.create_table(
        "payments",
        sa.Column("loan_id", sa.Text(), nullable=False),
        sa.Column("payment_id", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("loan_id", "payment_id", name="pk_payments"),
        schema=SCHEMA,
    )


def _repayment_failures() -> None:
    op.create_table(
        "repayment_failures",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("loan_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_repayment_failures"),
        schema=SCHEMA,
    )
    op.create_index("ix_repayment_failures_loan_id", "repayment_failures", ["loan_id"], schema=SCHEMA)


def _parked_events() -> None:
    op.create_table(
        "parked_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("loan_id", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", JSONB(), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_parked_events"),
        schema=SCHEMA,
    )
    op.create_index("ix_parked_events_loan_id", "parked_events", ["loan_id"], schema=SCHEMA)


def _aging_sweeps() -> None:
    op.create_table(
        "aging_sweeps",
        sa.Column("run_on", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("loans_aged", sa.Integer(), nullable=False, server_default=ZERO),
        sa.Column("notices", sa.Integer(), nullable=False, server_default=ZERO),
        sa.PrimaryKeyConstraint("run_on", name="pk_aging_sweeps"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in ("aging_sweeps", "parked_events", "repayment_failures", "payments", "installments", "loans", "inbox", "outbox"):
        op.drop_table(table, schema=SCHEMA)
