from datetime import date
from decimal import Decimal

import pytest

from dunning_legal.domain.letters import DemandFacts


@pytest.fixture
def facts() -> DemandFacts:
    return DemandFacts(
        legal_case_id="lc-1",
        loan_id="L-1",
        lender="acme-lending",
        borrower_id="B-1",
        borrower_name="张伟",
        currency="CNY",
        overdue_amount=Decimal("3150.4"),
        penalty_accrued=Decimal("88.20"),
        outstanding_balance=Decimal("12000"),
        days_past_due=92,
        overdue_since=date(2026, 8, 27),
        partner_name="Pudong Legal Partners (Shanghai)",
        issued_on=date(2026, 11, 27),
        pay_by=date(2026, 12, 11),
        file_digest="ab" * 32,
    )
