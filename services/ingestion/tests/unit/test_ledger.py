from decimal import Decimal

from dunning_ingestion.domain.figures import figures_of
from dunning_ingestion.domain.ledger import replay
from dunning_ingestion.domain.terms import capped_daily_rate

from ingestion_testkit.ledgers import D, day, paid, terms

TWO_MONTHS = terms(("2026-01-10", "1000", "50"), ("2026-02-10", "1000", "40"), rate="0.001")


def test_a_payment_settles_penalty_then_interest_then_principal_of_the_oldest_installment():
    ledger = replay(TWO_MONTHS, [paid("p1", "80", "2026-01-15")], as_of=day("2026-01-15"))
    first = ledger.installments[0]
    # five days late on 1000 principal at 0.1% a day: 5 x 1.00 penalty
    assert (first.penalty_paid, first.interest_paid, first.principal_paid) == (D("5.00"), D("50"), D("25"))
    assert ledger.installments[1].principal_paid == 0


def test_a_payment_larger_than_the_oldest_installment_moves_on_to_the_next():
    ledger = replay(TWO_MONTHS, [paid("p1", "1100", "2026-01-10")], as_of=day("2026-01-10"))
    first, second = ledger.installments
    assert first.outstanding == 0
    assert (second.interest_paid, second.principal_paid) == (D("40"), D("10"))


def test_an_overpayment_beyond_the_whole_schedule_is_held_as_credit():
    ledger = replay(TWO_MONTHS, [paid("p1", "2200", "2026-01-05")], as_of=day("2026-01-05"))
    figures = figures_of(ledger, TWO_MONTHS, today=day("2026-01-05"))
    assert figures.credit_balance == D("110")
    assert figures.outstanding_balance == 0


def test_credit_is_applied_when_a_restructuring_adds_an_installment():
    longer = terms(("2026-01-10", "1000", "50"), ("2026-02-10", "1000", "40"), ("2026-03-10", "500", "20"))
    ledger = replay(longer, [paid("p1", "2200", "2026-01-05")], as_of=day("2026-01-05"))
    assert ledger.credit == 0
    assert ledger.installments[2].interest_paid + ledger.installments[2].principal_paid == D("110")


def test_days_past_due_count_from_the_oldest_unpaid_installment_once_the_grace_has_passed():
    graced = terms(("2026-01-10", "1000", "50"), ("2026-02-10", "1000", "40"), grace_days=3)
    within = figures_of(replay(graced, [], as_of=day("2026-01-13")), graced, today=day("2026-01-13"))
    past = figures_of(replay(graced, [], as_of=day("2026-01-14")), graced, today=day("2026-01-14"))
    assert (within.status, within.days_past_due) == ("current", 0)
    assert (past.status, past.days_past_due, past.overdue_since) == ("overdue", 4, day("2026-01-10"))


def test_a_payment_within_the_grace_period_costs_no_penalty():
    graced = terms(("2026-01-10", "1000", "50"), grace_days=3)
    ledger = replay(graced, [paid("p1", "1050", "2026-01-13")], as_of=day("2026-02-01"))
    assert ledger.installments[0].penalty_accrued == 0


def test_penalty_past_the_grace_counts_from_the_due_date():
    graced = terms(("2026-01-10", "1000", "50"), grace_days=3)
    ledger = replay(graced, [], as_of=day("2026-01-14"))
    assert ledger.installments[0].penalty_accrued == D("4.00")


def test_penalty_accrues_on_unpaid_principal_only_and_follows_partial_payments():
    ledger = replay(TWO_MONTHS, [paid("p1", "555", "2026-01-15")], as_of=day("2026-01-20"))
    # 5 days on 1000 (5.00), then the payment: 5.00 penalty, 50 interest, 500 principal; 5 days on 500 (2.50)
    assert ledger.installments[0].penalty_accrued == D("7.50")


def test_the_overdue_amount_is_what_makes_the_loan_current_again():
    figures = figures_of(replay(TWO_MONTHS, [], as_of=day("2026-01-15")), TWO_MONTHS, today=day("2026-01-15"))
    assert figures.overdue_amount == D("1055.00")  # 1000 principal + 50 interest + 5 days of 1.00 penalty
    cleared = replay(TWO_MONTHS, [paid("p1", "1055", "2026-01-15")], as_of=day("2026-01-15"))
    assert figures_of(cleared, TWO_MONTHS, today=day("2026-01-15")).overdue_amount == 0


def test_the_daily_penalty_rate_is_capped_at_the_annual_ceiling():
    assert capped_daily_rate(D("0.01"), D("0.24")) == D("0.0006575342")
    assert capped_daily_rate(D("0.0005"), D("0.24")) == D("0.0005")


def test_penalty_stops_when_the_loan_closes():
    ledger = replay(TWO_MONTHS, [], as_of=day("2026-03-01"), closed_on=day("2026-01-12"))
    assert ledger.installments[0].penalty_accrued == D("2.00")
    assert figures_of(ledger, TWO_MONTHS, today=day("2026-03-01"), closed=True).status == "closed"


def test_payments_are_replayed_in_the_order_they_were_made_not_the_order_they_arrived():
    early, late = paid("a", "300", "2026-01-12"), paid("b", "300", "2026-01-20")
    one = replay(TWO_MONTHS, [early, late], as_of=day("2026-01-25"))
    other = replay(TWO_MONTHS, [late, early], as_of=day("2026-01-25"))
    assert one == other


def test_a_loan_that_is_fully_paid_needs_no_more_review():
    figures = figures_of(replay(TWO_MONTHS, [paid("p", "2090", "2026-01-01")], as_of=day("2026-01-01")), TWO_MONTHS, today=day("2026-01-01"))
    assert figures.next_review_on is None


def test_an_overdue_loan_is_reviewed_tomorrow_and_a_current_one_when_its_grace_ends():
    current = figures_of(replay(TWO_MONTHS, [], as_of=day("2026-01-01")), TWO_MONTHS, today=day("2026-01-01"))
    overdue = figures_of(replay(TWO_MONTHS, [], as_of=day("2026-01-15")), TWO_MONTHS, today=day("2026-01-15"))
    assert current.next_review_on == day("2026-01-11")
    assert overdue.next_review_on == day("2026-01-16")


def test_amounts_stay_decimal():
    ledger = replay(TWO_MONTHS, [paid("p1", "0.01", "2026-01-11")], as_of=day("2026-01-11"))
    assert isinstance(ledger.installments[0].penalty_accrued, Decimal)
