"""Agents' calls and field visits (the scheduler's ContactAttempted) kept with the reminders as contact
attempts, so the evidence file lists every contact with the loan in one chronology. Rows already here
are reminders. A task is completed once, so its id names the contact: the same call reported twice is
one row, whatever the envelope says.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SCHEMA = "legal"
TABLE = "contact_attempts"
AGENT_COLUMNS = {
    "task_id": sa.Text,
    "case_id": sa.Text,
    "agent_id": sa.Text,
    "connected": sa.Boolean,
    "outcome": sa.Text,
}


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("kind", sa.Text, nullable=False, server_default="reminder"), schema=SCHEMA)
    for column, type_ in AGENT_COLUMNS.items():
        op.add_column(TABLE, sa.Column(column, type_), schema=SCHEMA)
    # An agent's contact has no reminder and no delivery status: its outcome says what happened.
    op.alter_column(TABLE, "reminder_id", nullable=True, schema=SCHEMA)
    op.alter_column(TABLE, "status", nullable=True, schema=SCHEMA)
    op.create_check_constraint(
        "reminder_has_id_and_status",
        TABLE,
        "kind <> 'reminder' OR (reminder_id IS NOT NULL AND status IS NOT NULL)",
        schema=SCHEMA,
    )
    op.create_index(
        "uq_contact_attempts_task_id",
        TABLE,
        ["task_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("task_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.execute(f"DELETE FROM {SCHEMA}.{TABLE} WHERE kind <> 'reminder'")
    op.drop_index("uq_contact_attempts_task_id", TABLE, schema=SCHEMA)
    op.drop_constraint(op.f("ck_contact_attempts_reminder_has_id_and_status"), TABLE, schema=SCHEMA)
    op.alter_column(TABLE, "status", nullable=False, schema=SCHEMA)
    op.alter_column(TABLE, "reminder_id", nullable=False, schema=SCHEMA)
    for column in ("kind", *AGENT_COLUMNS):
        op.drop_column(TABLE, column, schema=SCHEMA)
