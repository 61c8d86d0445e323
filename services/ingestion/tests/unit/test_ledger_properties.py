"""The ledger's invariants, over generated schedules and payment histories."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from dunning_ingestion.domain.figures import figures_of
from dunning_ingestion.domain.ledger import Payment, accrue, replay
from dunning_ingestion.domain.terms import ScheduledInstallment, Terms

EXAMPLES = settings(max_examples=500, deadline=None)
START = date(2026, 1, 1)

cents = st.integers(min_value=0, max_value=500_000).map(lambda c: Decimal(c).scaleb(-2))
positive_cents = st.integers(min_value=1, max_value=300_000).map(lambda c: Decimal(c).scaleb(-2))
days = st.integers(min_value=-10, max_value=240).map(lambda d: START + timedelta(days=d))


@st.composite
def loan_terms(draw) -> Terms:
    count = draw(st.integers(min_value=1, max_value=6))
    gaps = draw(st.lists(st.integers(min_value=0, max_value=40), min_size=count, max_size=count))
    schedule, due = [], START
    for seq, gap in enumerate(gaps, start=1):
        due += timedelta(days=gap)
        schedule.append(ScheduledInstallment(seq, due, draw(cents), draw(cents.map(lambda c: c / 10))))
    rate = draw(st.integers(min_value=0, max_value=2000).map(lambda r: Decimal(r).scaleb(-6)))
    grace = draw(st.integers(min_value=0, max_value=5))
    return Terms("CNY", 2, grace, rate, tuple(schedule))


@st.composite
def payment_histories(draw) -> list[Payment]:
    made = draw(st.lists(st.tuples(positive_cents, days), max_size=6))
    return [Payment(f"p{n}", amount, datetime.combine(on, time(9), UTC), on) for n, (amount, on) in enumerate(made)]


def rounded(terms: Terms) -> Terms:
    """Interest drawn as cents / 10 may have three places; the contract's money has two."""
    return Terms(
        terms.currency, terms.minor_digits, terms.grace_days, terms.penalty_rate_daily,
        tuple(ScheduledInstallment(i.seq, i.due_date, i.principal_due, i.interest_due.quantize(Decimal("0.01"))) for i in terms.installments),
    )


@EXAMPLES
@given(loan_terms().map(rounded), payment_histories(), days)
def test_allocations_and_credit_add_up_to_the_payments(terms, payments, as_of):
    ledger = replay(terms, payments, as_of=as_of)
    allocated = sum((a.total for a in ledger.allocations), Decimal("0"))
    assert allocated + ledger.credit == sum((p.amount for p in payments), Decimal("0"))
    paid = sum((i.principal_paid + i.interest_paid + i.penalty_paid for i in ledger.installments), Decimal("0"))
    assert paid == allocated


@EXAMPLES
@given(loan_terms().map(rounded), payment_histories(), days)
def test_nothing_is_ever_negative_or_overpaid(terms, payments, as_of):
    ledger = replay(terms, payments, as_of=as_of)
    figures = figures_of(ledger, terms, today=as_of)
    assert figures.overdue_amount >= 0 and figures.outstanding_balance >= 0 and figures.credit_balance >= 0
    assert figures.overdue_amount <= figures.outstanding_balance
    for installment in ledger.installments:
        assert installment.principal_outstanding >= 0
        assert installment.interest_outstanding >= 0
        assert installment.penalty_outstanding >= 0


@EXAMPLES
@given(loan_terms().map(rounded), payment_histories(), days, st.randoms())
def test_any_arrival_order_of_the_same_payments_gives_the_same_ledger(terms, payments, as_of, random):
    shuffled = list(payments)
    random.shuffle(shuffled)
    assert replay(terms, shuffled, as_of=as_of) == replay(terms, payments, as_of=as_of)


@EXAMPLES
@given(loan_terms().map(rounded), payment_histories(), days, st.integers(min_value=0, max_value=60))
def test_aging_a_stored_ledger_day_by_day_equals_rebuilding_it_later(terms, payments, as_of, later_by):
    """What the daily sweep does (accrue on the stored ledger) must match a full rebuild."""
    later = as_of + timedelta(days=later_by)
    earlier = [p for p in payments if p.paid_on <= as_of]
    stored = replay(terms, earlier, as_of=as_of)
    for step in range(1, later_by + 1):
        accrue(stored, terms, through=as_of + timedelta(days=step))
    assert stored == replay(terms, earlier, as_of=later)
