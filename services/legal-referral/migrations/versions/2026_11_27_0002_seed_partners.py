"""The partner registry starts with a few law firms and one collection agency; operators edit it later.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "legal"


def _fees(model: str, currency: str, **terms: str) -> dict:
    # Amounts and rates are decimal strings, as everywhere on this platform.
    return {"model": model, "currency": currency, **terms}


PARTNERS = [
    {
        "partner_id": "lf-huaxin-bj",
        "name": "Huaxin Law Firm (Beijing)",
        "kind": "law_firm",
        "regions": ["CN-BJ", "CN-TJ", "CN-HE", "CN"],
        "capacity": 40,
        "fee_terms": _fees("contingency", "CNY", rate="0.18", filing_fee="800.00", minimum_fee="300.00"),
        "contact_email": "referrals@huaxin-law.example",
    },
    {
        "partner_id": "lf-pudong-sh",
        "name": "Pudong Legal Partners (Shanghai)",
        "kind": "law_firm",
        "regions": ["CN-SH", "CN-JS", "CN-ZJ", "CN"],
        "capacity": 40,
        "fee_terms": _fees("contingency", "CNY", rate="0.15", filing_fee="1000.00", minimum_fee="500.00"),
        "contact_email": "intake@pudong-legal.example",
    },
    {
        "partner_id": "lf-pearl-river-gd",
        "name": "Pearl River Law Office (Guangzhou)",
        "kind": "law_firm",
        "regions": ["CN-GD", "CN-GX", "CN-HI"],
        "capacity": 25,
        "fee_terms": _fees("fixed", "CNY", per_case="1500.00", enforcement_fee="600.00"),
        "contact_email": "cases@pearlriver-law.example",
    },
    {
        "partner_id": "ca-westwind-sc",
        "name": "Westwind Recovery Services (Chengdu)",
        "kind": "collection_agency",
        "regions": ["CN-SC", "CN-CQ", "CN-YN"],
        "capacity": 60,
        "fee_terms": _fees("contingency", "CNY", rate="0.22"),
        "contact_email": "ops@westwind-recovery.example",
    },
    {
        "partner_id": "lf-harbour-hk",
        "name": "Harbour Chambers (Hong Kong)",
        "kind": "law_firm",
        "regions": ["HK", "MO"],
        "capacity": 15,
        "fee_terms": _fees("hourly", "HKD", hourly_rate="2800.00", filing_fee="2000.00"),
        "contact_email": "clerk@harbour-chambers.example",
    },
]


def upgrade() -> None:
    partners = sa.table(
        "partners",
        sa.column("partner_id", sa.Text),
        sa.column("name", sa.Text),
        sa.column("kind", sa.Text),
        sa.column("regions", ARRAY(sa.Text)),
        sa.column("capacity", sa.Integer),
        sa.column("fee_terms", JSONB),
        sa.column("contact_email", sa.Text),
        schema=SCHEMA,
    )
    op.bulk_insert(partners, PARTNERS)


def downgrade() -> None:
    ids = ", ".join(f"'{p['partner_id']}'" for p in PARTNERS)
    op.execute(f"DELETE FROM {SCHEMA}.partners WHERE partner_id IN ({ids})")
