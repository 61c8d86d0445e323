"""A referral may wait without a partner: when none is available at escalation it is opened unassigned
(no partner, no acceptance deadline) and assigned as soon as a partner exists, instead of being lost to
the dead-letter topic. Its audit entries name no partner until then.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SCHEMA = "legal"
WAITING = "partner_id IS NULL AND status = 'referred'"


def upgrade() -> None:
    for column in ("partner_id", "assigned_at", "accept_by"):
        op.alter_column("legal_cases", column, nullable=True, schema=SCHEMA)
    op.alter_column("audit_trail", "partner_id", nullable=True, schema=SCHEMA)
    # The sweep looks for waiting referrals every few seconds; there are few, so index only those.
    op.execute(f"CREATE INDEX ix_legal_cases_awaiting_partner ON {SCHEMA}.legal_cases (opened_at) WHERE {WAITING}")


def downgrade() -> None:
    op.drop_index("ix_legal_cases_awaiting_partner", table_name="legal_cases", schema=SCHEMA)
    op.alter_column("audit_trail", "partner_id", nullable=False, schema=SCHEMA)
    for column in ("partner_id", "assigned_at", "accept_by"):
        op.alter_column("legal_cases", column, nullable=False, schema=SCHEMA)
