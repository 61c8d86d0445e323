"""Cases by borrower: a claim counts the borrower's agent calls of the day across all their loans.

Revision ID: 2026_11_27_0007
Revises: 2026_11_27_0006
Create Date: 2026-11-27
"""

from alembic import op

revision = "2026_11_27_0007"
down_revision = "2026_11_27_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_borrower", "cases", ["borrower_id"], schema="scheduler")


def downgrade() -> None:
    op.drop_index("ix_cases_borrower", table_name="cases", schema="scheduler")
