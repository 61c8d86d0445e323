"""The risk scorecard: every point comes from a named factor."""

from decimal import Decimal

from dunning_scheduler.domain.risk import score


def test_an_early_small_case_is_low_risk():
    risk = score(3, Decimal("500"))
    assert (risk.points, risk.band) == (15, "low")


def test_a_late_large_case_with_broken_promises_is_high_risk():
    risk = score(95, Decimal("25000"), broken_promises=2)
    assert (risk.points, risk.band) == (60 + 35 + 30, "high")


def test_each_factor_is_named_with_its_value_and_points():
    risk = score(20, Decimal("6000"), outcomes={"wrong_number": 1, "contacted": 2}, past_cures=1)
    factors = {f.name: (f.value, f.points) for f in risk.factors}
    assert factors == {
        "days_past_due": ("20", 25),
        "overdue_amount": ("6000", 25),
        "broken_promises": ("0", 0),
        "past_cures": ("1", -10),
        "contact_contacted": ("2", -10),
        "contact_wrong_number": ("1", 15),
    }
    assert risk.points == sum(points for _, points in factors.values())


def test_a_borrower_who_cured_before_counts_less():
    assert score(20, Decimal("6000"), past_cures=2).points < score(20, Decimal("6000")).points
