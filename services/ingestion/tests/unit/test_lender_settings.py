from dataclasses import replace
from decimal import Decimal

import pytest
from pydantic import ValidationError

from dunning_ingestion.config import LenderSettings, Settings
from dunning_ingestion.domain.ledger import replay
from dunning_ingestion.main import policies_of
from ingestion_testkit.ledgers import D, day, paid, terms


def settings(**lenders) -> Settings:
    return Settings(database_url="postgresql+asyncpg://x@/y", tokens_file="/tmp/none.json", lenders=lenders)


def test_each_lender_gets_its_own_cap_and_keeps_the_service_defaults_it_does_not_set():
    policies = policies_of(settings(microloan={"penalty_cap_annual": "0.124"}))
    own, other = policies.for_lender("microloan"), policies.for_lender("bank")
    assert own.penalty_rate(D("0.001")) == D("0.0003397260")  # 12.4% a year
    assert other.penalty_rate(D("0.001")) == D("0.0006575342")  # the service's 24%
    assert own.default_penalty_rate_daily == other.default_penalty_rate_daily == Decimal("0.0005")


def test_a_lender_may_allocate_interest_before_penalty():
    policies = policies_of(settings(acme={"waterfall": ["interest", "principal", "penalty"]}))
    waterfall = policies.for_lender("acme").waterfall
    ordered = replace(terms(("2026-01-10", "1000", "50"), rate="0.001"), waterfall=waterfall)
    first = replay(ordered, [paid("p", "1049", "2026-01-15")], as_of=day("2026-01-15")).installments[0]
    assert (first.interest_paid, first.principal_paid, first.penalty_paid) == (D("50"), D("999"), D("0"))


def test_a_waterfall_must_order_exactly_penalty_interest_and_principal():
    with pytest.raises(ValidationError):
        LenderSettings(waterfall=("interest", "principal"))
