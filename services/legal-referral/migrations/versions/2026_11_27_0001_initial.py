"""The legal schema: outbox and inbox, partners, what the bus told us about loans, referrals and their audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from dunning_messaging import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "legal"
AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_messaging_tables(op, SCHEMA)
    _partners()
    _loans()
    _overdue_history()
    _contact_attempts()
    _legal_cases()
    _audit_trail()
    _partner_notices()


def _partners() -> None:
    op.create_table(
        "partners",
        sa.Column("partner_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("regions", ARRAY(sa.Text), nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("fee_terms", JSONB, nullable=False),
        sa.Column("contact_email", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("last_assigned_seq", sa.BigInteger, nullable=False, server_default="0"),
        sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint("kind IN ('law_firm', 'collection_agency')", name="kind_known"),
        schema=SCHEMA,
    )
    # Round robin needs a global order of assignments that survives restarts and replicas.
    op.execute(f"CREATE SEQUENCE {SCHEMA}.assignment_seq")


def _loans() -> None:
    op.create_table(
        "loans",
        sa.Column("loan_id", sa.Text, primary_key=True),
        sa.Column("borrower_id", sa.Text),
        sa.Column("lender", sa.Text),
        sa.Column("region", sa.Text),
        sa.Column("locale", sa.Text),
        sa.Column("booking", JSONB),
        sa.Column("snapshot", JSONB),
        sa.Column("snapshot_as_of", AWARE),
        sa.Column("cleared_at", AWARE),
        schema=SCHEMA,
    )


def _overdue_history() -> None:
    op.create_table(
        "overdue_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("loan_id", sa.Text, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("occurred_at", AWARE, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_overdue_history_loan_id", "overdue_history", ["loan_id"], schema=SCHEMA)


def _contact_attempts() -> None:
    op.create_table(
        "contact_attempts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("loan_id", sa.Text, nullable=False),
        sa.Column("reminder_id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("provider", sa.Text),
        sa.Column("provider_message_id", sa.Text),
        sa.Column("occurred_at", AWARE, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_contact_attempts_loan_id", "contact_attempts", ["loan_id"], schema=SCHEMA)


def _legal_cases() -> None:
    op.create_table(
        "legal_cases",
        sa.Column("legal_case_id", sa.Text, primary_key=True),
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("loan_id", sa.Text, nullable=False),
        sa.Column("borrower_id", sa.Text, nullable=False),
        sa.Column("lender", sa.Text),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("partner_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("escalation", JSONB, nullable=False),
        sa.Column("overdue_amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("opened_at", AWARE, nullable=False),
        sa.Column("assigned_at", AWARE, nullable=False),
        sa.Column("accept_by", AWARE, nullable=False),
        sa.Column("updated_at", AWARE, nullable=False),
        # One referral per collection case, however often its escalation is delivered.
        sa.UniqueConstraint("case_id", name="uq_legal_cases_case_id"),
        schema=SCHEMA,
    )
    for column in ("loan_id", "lender", "partner_id", "status", "opened_at"):
        op.create_index(f"ix_legal_cases_{column}", "legal_cases", [column], schema=SCHEMA)
    op.create_index(
        "ix_legal_cases_awaiting_acceptance",
        "legal_cases",
        ["accept_by"],
        schema=SCHEMA,
        postgresql_where=sa.text("status = 'referred'"),
    )


def _audit_trail() -> None:
    op.create_table(
        "audit_trail",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("legal_case_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.legal_cases.legal_case_id"), nullable=False),
        sa.Column("at", AWARE, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("from_status", sa.Text),
        sa.Column("to_status", sa.Text, nullable=False),
        sa.Column("partner_id", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        schema=SCHEMA,
    )
    op.create_index("ix_audit_trail_legal_case_id", "audit_trail", ["legal_case_id"], schema=SCHEMA)


def _partner_notices() -> None:
    op.create_table(
        "partner_notices",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("legal_case_id", sa.Text, sa.ForeignKey(f"{SCHEMA}.legal_cases.legal_case_id"), nullable=False),
        sa.Column("partner_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("sent_at", AWARE),
        schema=SCHEMA,
    )
    op.create_index("ix_partner_notices_legal_case_id", "partner_notices", ["legal_case_id"], schema=SCHEMA)
    op.create_index("ix_partner_notices_partner_id", "partner_notices", ["partner_id"], schema=SCHEMA)


def downgrade() -> None:
    for table in ("partner_notices", "audit_trail", "legal_cases", "contact_attempts", "overdue_history", "loans"):
        op.drop_table(table, schema=SCHEMA)
    op.execute(f"DROP SEQUENCE {SCHEMA}.assignment_seq")
    op.drop_table("partners", schema=SCHEMA)
    # Whatever create_messaging_tables made, including tables it gained after this file was written.
    for table in ("audit_log", "inbox", "outbox"):
        op.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{table}")
