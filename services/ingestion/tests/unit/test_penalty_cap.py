"""The annual cap holds on the contract's interest and the penalty together, as the courts apply it."""

from datetime import date, timedelta
from decimal import Decimal as D

from dunning_ingestion.domain.policy import LedgerPolicy
from dunning_ingestion.domain.terms import DAYS_PER_YEAR, ScheduledInstallment, capped_daily_rate, contract_rate_annual

BOOKED = date(2025, 1, 1)
CAP = D("0.24")


def due(days: int, principal: str, interest: str, seq: int = 1) -> ScheduledInstallment:
    return ScheduledInstallment(seq, BOOKED + timedelta(days=days), D(principal), D(interest))


def test_the_contract_rate_is_the_interest_over_the_principal_lent_and_for_how_long():
    assert contract_rate_annual((due(365, "1000", "180"),), BOOKED) == D("0.18")
    # 1000 lent for 30 days, then 500 for 30 more: 15 of interest is 12.17% a year, rounded up
    halves = (due(30, "500", "7.50"), due(60, "500", "7.50", seq=2))
    assert contract_rate_annual(halves, BOOKED) == D("0.12166667")


def test_eighteen_percent_interest_leaves_six_percent_a_year_of_penalty_under_a_cap_of_24():
    assert capped_daily_rate(D("0.01"), CAP, D("0.18")) == D("0.0001643835")  # 0.06 / 365, rounded down


def test_a_penalty_exactly_at_the_headroom_is_charged_in_full_and_one_step_more_is_not():
    at_the_line = D("0.0001643835")
    assert capped_daily_rate(at_the_line, CAP, D("0.18")) == at_the_line
    assert capped_daily_rate(at_the_line + D("1e-10"), CAP, D("0.18")) == at_the_line


def test_interest_at_or_over_the_cap_leaves_no_penalty():
    assert capped_daily_rate(D("0.0005"), CAP, D("0.24")) == 0
    assert capped_daily_rate(D("0.0005"), CAP, D("0.36")) == 0


def test_a_penalty_within_the_headroom_is_charged_as_agreed():
    assert capped_daily_rate(D("0.0003"), CAP, D("0.10")) == D("0.0003")  # 10% + 10.95% < 24%


def test_without_interest_the_whole_cap_is_the_penalty_s():
    assert capped_daily_rate(D("0.01"), CAP) == D("0.0006575342")


def test_the_combined_annual_rate_of_a_booking_never_exceeds_the_cap():
    schedule = (due(30, "1000", "15"),)  # 18.25% a year
    interest = contract_rate_annual(schedule, BOOKED)
    penalty = LedgerPolicy(penalty_cap_annual=CAP).penalty_rate(D("0.0005"), interest)
    assert interest + penalty * DAYS_PER_YEAR <= CAP
    assert penalty == D("0.0001575342")  # what 5.75% a year leaves, not the 0.05% a day agreed
