"""The borrower's name, encrypted, to address the demand letter.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("loans", sa.Column("borrower_name_sealed", sa.LargeBinary), schema="legal")


def downgrade() -> None:
    op.drop_column("loans", "borrower_name_sealed", schema="legal")
