"""The contact book, loan figures, preferences, reminders, contact attempts, outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

from dunning_messaging.tables import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "notification"
Aware = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_messaging_tables(op, SCHEMA)
    _borrowers()
    _loans()
    _contact_preferences()
    _reminders()
    _contact_attempts()


def _borrowers() -> None:
    op.create_table(
        "borrowers",
        sa.Column("borrower_id", sa.Text),
        sa.Column("name_enc", sa.LargeBinary, nullable=False),
        sa.Column("phone_enc", sa.LargeBinary),
        sa.Column("email_enc", sa.LargeBinary),
        sa.Column("locale", sa.Text, nullable=False),
        sa.Column("timezone", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("updated_at", Aware, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("borrower_id", name="pk_borrowers"),
        schema=SCHEMA,
    )


def _loans() -> None:
    op.create_table(
        "loans",
        sa.Column("loan_id", sa.Text),
        sa.Column("borrower_id", sa.Text, nullable=False),
        sa.Column("lender", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("overdue_amount", sa.Numeric(18, 2)),
        sa.Column("days_past_due", sa.Integer),
        sa.Column("figures_as_of", Aware),
        sa.Column("cleared_at", Aware),
        sa.PrimaryKeyConstraint("loan_id", name="pk_loans"),
        schema=SCHEMA,
    )
    op.create_index("ix_loans_borrower_id", "loans", ["borrower_id"], schema=SCHEMA)


def _contact_preferences() -> None:
    op.create_table(
        "contact_preferences",
        sa.Column("borrower_id", sa.Text),
        sa.Column("opted_out", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("do_not_contact", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("preferred_channel", sa.Text),
        sa.Column("contact_from", sa.Time),
        sa.Column("contact_until", sa.Time),
        sa.Column("hold_until", Aware),
        sa.Column("updated_at", Aware, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("borrower_id", name="pk_contact_preferences"),
        schema=SCHEMA,
    )


def _reminders() -> None:
    op.create_table(
        "reminders",
        sa.Column("reminder_id", sa.Text),
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("loan_id", sa.Text, nullable=False),
        sa.Column("borrower_id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("template", sa.Text, nullable=False),
        sa.Column("locale", sa.Text, nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("not_before", Aware, nullable=False),
        sa.Column("expires_at", Aware, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", Aware, nullable=False),
        sa.Column("lease_until", Aware),
        sa.Column("provider", sa.Text),
        sa.Column("provider_message_id", sa.Text),
        sa.Column("requested_at", Aware, nullable=False),
        sa.Column("sent_at", Aware),
        sa.Column("updated_at", Aware, nullable=False),
        sa.PrimaryKeyConstraint("reminder_id", name="pk_reminders"),
        schema=SCHEMA,
    )
    op.create_index("ix_reminders_loan_id", "reminders", ["loan_id"], schema=SCHEMA)
    op.create_index(
        "ix_reminders_due", "reminders", ["next_attempt_at"], schema=SCHEMA, postgresql_where=sa.text("status = 'pending'")
    )
    op.create_index("ix_reminders_provider_message", "reminders", ["provider", "provider_message_id"], schema=SCHEMA)


def _contact_attempts() -> None:
    op.create_table(
        "contact_attempts",
        sa.Column("id", sa.BigInteger, sa.Identity()),
        sa.Column("reminder_id", sa.Text, nullable=False),
        sa.Column("loan_id", sa.Text, nullable=False),
        sa.Column("borrower_id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("occurred_at", Aware, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("provider", sa.Text),
        sa.Column("provider_message_id", sa.Text),
        sa.Column("retain_until", Aware, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_attempts"),
        schema=SCHEMA,
    )
    op.create_index("ix_contact_attempts_reminder_id", "contact_attempts", ["reminder_id"], schema=SCHEMA)
    op.create_index(
        "ix_contact_attempts_borrower_time", "contact_attempts", ["borrower_id", "channel", "occurred_at"], schema=SCHEMA
    )


def downgrade() -> None:
    for table in ("contact_attempts", "reminders", "contact_preferences", "loans", "borrowers", "inbox", "outbox"):
        op.drop_table(table, schema=SCHEMA)
