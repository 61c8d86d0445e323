"""A promise is kept by what was paid; the fall of the overdue amount only speaks for unseen payments."""

from decimal import Decimal

from dunning_scheduler.domain.pauses import paid_towards, promise_kept


def test_a_payment_of_the_promised_amount_keeps_the_promise_though_penalty_raised_the_overdue_amount():
    assert promise_kept(Decimal("300"), paid=Decimal("300"), overdue_then=Decimal("1200"), overdue_now=Decimal("915"))


def test_less_than_promised_does_not_keep_it():
    assert not promise_kept(Decimal("300"), paid=Decimal("299.99"), overdue_then=Decimal("1200"), overdue_now=Decimal("915"))


def test_a_fall_of_the_overdue_amount_speaks_for_payments_not_received_as_events():
    assert promise_kept(Decimal("300"), paid=Decimal("0"), overdue_then=Decimal("1200"), overdue_now=Decimal("900"))


def test_what_counts_as_paid_is_the_larger_of_payments_and_the_fall():
    assert paid_towards(Decimal("500"), Decimal("2000"), Decimal("1540")) == Decimal("500")
    assert paid_towards(Decimal("0"), Decimal("2000"), Decimal("1000")) == Decimal("1000")
