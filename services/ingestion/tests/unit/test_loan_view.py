"""GET /v1/loans/{id} answers every amount in its currency's minor units, however it was written."""

from dataclasses import replace
from datetime import UTC, datetime

from dunning_ingestion.domain.ledger import replay
from dunning_ingestion.domain.loan import Loan
from dunning_ingestion.views import loan_view

from ingestion_testkit.ledgers import D, day, paid, terms

BOOKED = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)


def loan_with(schedule, principal: str) -> Loan:
    return Loan(
        loan_id="l-1", lender="acme", product="cash", borrower_id="b-1", locale="zh-CN", timezone="UTC",
        region="CN", principal=D(principal), booked_at=BOOKED, terms=schedule, schedule_time=BOOKED,
        schedule_event_id="e-1",
    )


def view_of(schedule, principal: str, payments=()) -> dict:
    ledger = replay(schedule, list(payments), as_of=day("2026-01-15"))
    return loan_view(loan_with(schedule, principal), ledger, NOW)


def amounts_of(view: dict) -> list[str]:
    """Every money figure of the view: the loan's, and each installment's due, paid and owed."""
    figures = ["principal", "overdue_amount", "penalty_accrued", "penalty_outstanding", "outstanding_balance",
               "credit_balance"]
    found = [view[name] for name in figures]
    for installment in view["installments"]:
        found += [*installment["due"].values(), *installment["paid"].values()]
        found += [installment["penalty_accrued"], installment["outstanding"], installment["overdue"]]
    return found


def test_a_yuan_loan_written_in_whole_units_shows_every_amount_with_two_decimals():
    schedule = terms(("2026-01-10", "50", "5"), ("2026-02-10", "50", "5"), currency="CNY")
    view = view_of(schedule, "100", [paid("p1", "20", "2026-01-12")])
    assert view["principal"] == "100.00"
    assert view["installments"][0]["due"] == {"principal": "50.00", "interest": "5.00"}
    assert view["installments"][1]["paid"] == {"principal": "0.00", "interest": "0.00", "penalty": "0.00"}
    assert all(len(amount.partition(".")[2]) == 2 for amount in amounts_of(view))


def test_a_yen_loan_shows_whole_yen_however_its_amounts_were_written():
    schedule = replace(terms(("2026-01-10", "5000.0", "500"), currency="JPY"), minor_digits=0)
    view = view_of(schedule, "5000.00")
    assert view["principal"] == "5000"
    assert view["installments"][0]["due"] == {"principal": "5000", "interest": "500"}
    assert all("." not in amount for amount in amounts_of(view))


def test_an_overdue_installment_shows_what_it_owes_in_minor_units():
    schedule = terms(("2026-01-10", "50", "5"), currency="CNY", rate="0.001")
    overdue = view_of(schedule, "50")["installments"][0]
    # five days late on 50.00 principal at 0.1% a day: 0.05 a day
    assert (overdue["penalty_accrued"], overdue["overdue"]) == ("0.25", "55.25")
