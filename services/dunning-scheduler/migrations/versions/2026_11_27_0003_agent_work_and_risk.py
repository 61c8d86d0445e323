"""Agent work (claim, complete with an outcome), the risk score shown with each case, and the segment
and champion/challenger arm that decided it.

Revision ID: 2026_11_27_0003
Revises: 2026_11_27_0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "2026_11_27_0003"
down_revision = "2026_11_27_0002"
branch_labels = None
depends_on = None

S = "scheduler"


def upgrade() -> None:
    op.add_column("cases", sa.Column("risk_points", sa.Integer, nullable=False, server_default="0"), schema=S)
    op.add_column("cases", sa.Column("risk_band", sa.Text, nullable=False, server_default="low"), schema=S)
    op.add_column("cases", sa.Column("risk_factors", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")), schema=S)
    op.add_column("cases", sa.Column("contact_outcomes", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")), schema=S)
    op.add_column("cases", sa.Column("failed_contacts", sa.Integer, nullable=False, server_default="0"), schema=S)
    op.add_column("cases", sa.Column("past_cures", sa.Integer, nullable=False, server_default="0"), schema=S)
    op.add_column("cases", sa.Column("segment", sa.Text), schema=S)
    op.add_column("cases", sa.Column("arm", sa.Text), schema=S)
    op.add_column("agent_tasks", sa.Column("risk_points", sa.Integer, nullable=False, server_default="0"), schema=S)
    op.add_column("agent_tasks", sa.Column("overdue_amount", sa.Numeric, nullable=False, server_default="0"), schema=S)
    op.add_column("agent_tasks", sa.Column("claimed_by", sa.Text), schema=S)
    op.add_column("agent_tasks", sa.Column("claimed_at", sa.DateTime(timezone=True)), schema=S)
    op.add_column("agent_tasks", sa.Column("completed_at", sa.DateTime(timezone=True)), schema=S)
    op.add_column("agent_tasks", sa.Column("outcome", sa.Text), schema=S)
    op.add_column("agent_tasks", sa.Column("note", sa.Text), schema=S)
    op.drop_index("ix_agent_tasks_queue", "agent_tasks", schema=S)
    op.create_index(
        "ix_agent_tasks_queue", "agent_tasks", ["kind", sa.text("risk_points DESC"), sa.text("overdue_amount DESC")],
        schema=S, postgresql_where=sa.text("status = 'queued'"),
    )


def downgrade() -> None:
    op.drop_index("ix_agent_tasks_queue", "agent_tasks", schema=S)
    op.create_index("ix_agent_tasks_queue", "agent_tasks", ["status", "priority"], schema=S)
    for column in ("note", "outcome", "completed_at", "claimed_at", "claimed_by", "overdue_amount", "risk_points"):
        op.drop_column("agent_tasks", column, schema=S)
    for column in ("arm", "segment", "past_cures", "failed_contacts", "contact_outcomes", "risk_factors", "risk_band", "risk_points"):
        op.drop_column("cases", column, schema=S)
