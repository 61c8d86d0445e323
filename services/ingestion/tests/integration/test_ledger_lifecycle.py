"""A loan's life in the ledger: out-of-order arrivals, restructuring, closing, and the daily sweep."""

from datetime import timedelta

from ingestion_testkit.events import loan_booked, loan_closed, new_loan_id, repayment, repayment_failed
from ingestion_testkit.probes import outbox

from dunning_contracts import Topics


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def post(client, token, *events) -> list[str]:
    response = await client.post("/v1/repayment-events", json=list(events), headers=auth(token))
    assert response.status_code == 200, response.text
    return [r["status"] for r in response.json()["results"]]


async def loan(client, token, loan_id) -> dict:
    response = await client.get(f"/v1/loans/{loan_id}", headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()


async def notices(app, loan_id) -> list[tuple[str, dict]]:
    return [(e["type"], e["data"]) for e in await outbox(app, loan_id, topic=Topics.LOAN_OVERDUE)]


async def test_a_payment_that_arrives_before_its_loan_is_applied_when_the_loan_arrives(ingestion, admin_token):
    app, client = ingestion
    loan_id = new_loan_id()
    assert await post(client, admin_token, repayment(loan_id, "1055", paid_at="2026-01-15T10:00:00+08:00")) == ["accepted"]

    await post(client, admin_token, loan_booked(loan_id, ("2026-01-10", "1000", "50"), ("2026-02-10", "1000", "40")))

    view = await loan(client, admin_token, loan_id)
    assert (view["status"], view["overdue_amount"]) == ("current", "0.00")
    # paid five days late: 2.50 penalty first, then interest, then principal
    assert view["installments"][0]["paid"] == {"principal": "1000.00", "interest": "50.00", "penalty": "2.50"}
    assert view["installments"][1]["paid"]["interest"] == "2.50"
    assert await notices(app, loan_id) == []


async def test_a_parked_payment_in_another_currency_goes_to_the_dlq_when_its_loan_arrives(ingestion, admin_token):
    app, client = ingestion
    loan_id = new_loan_id()
    await post(client, admin_token, repayment(loan_id, "100", currency="USD"))

    await post(client, admin_token, loan_booked(loan_id, ("2026-01-10", "1000", "50")))

    dead = await outbox(app, loan_id, topic=f"{Topics.REPAYMENT_EVENTS}.dlq")
    assert [e["type"] for e in dead] == ["RepaymentReceived"]
    assert (await loan(client, admin_token, loan_id))["installments"][0]["paid"]["principal"] == "0.00"


async def test_a_partial_payment_announces_the_smaller_overdue_amount(ingestion, admin_token):
    app, client = ingestion
    loan_id = new_loan_id()
    await post(client, admin_token, loan_booked(loan_id, ("2026-01-10", "1000", "50")))
    await post(client, admin_token, repayment(loan_id, "500"))

    sent = await notices(app, loan_id)
    assert [(t, d["overdue_amount"]) for t, d in sent] == [("LoanOverdue", "1055.00"), ("LoanOverdue", "555.00")]


async def test_a_restructuring_that_makes_the_loan_current_clears_it(ingestion, admin_token, clock):
    app, client = ingestion
    loan_id = new_loan_id()
    await post(client, admin_token, loan_booked(loan_id, ("2026-01-10", "1000", "50")))
    later = clock.now() + timedelta(hours=1)

    await post(client, admin_token, loan_booked(loan_id, ("2026-03-10", "1000", "80"), event_time=later))

    assert [(t, d.get("reason")) for t, d in await notices(app, loan_id)] == [("LoanOverdue", None), ("OverdueCleared", "restructured")]
    view = await loan(client, admin_token, loan_id)
    assert (view["status"], [i["due_date"] for i in view["installments"]]) == ("current", ["2026-03-10"])


async def test_new_terms_on_the_same_schedule_that_make_the_loan_current_clear_it_as_restructured(ingestion, admin_token, clock):
    app, client = ingestion
    loan_id = new_loan_id()
    await post(client, admin_token, loan_booked(loan_id, ("2026-01-10", "1000", "50")))
    later = clock.now() + timedelta(hours=1)

    await post(client, admin_token, loan_booked(loan_id, ("2026-01-10", "1000", "50"), event_time=later, grace_days=30))

    assert [(t, d.get("reason")) for t, d in await notices(app, loan_id)] == [("LoanOverdue", None), ("OverdueCleared", "restructured")]
    assert (await loan(client, admin_token, loan_id))["status"] == "current"


async def test_an_older_schedule_arriving_after_a_restructuring_is_ignored(ingestion, admin_token, clock):
    _, client = ingestion
    loan_id = new_loan_id()
    original = loan_booked(loan_id, ("2026-01-10", "1000", "50"))
    restructured = loan_booked(loan_id, ("2026-03-10", "1000", "80"), event_time=clock.now())

    await post(client, admin_token, restructured, original)

    assert [i["due_date"] for i in (await loan(client, admin_token, loan_id))["installments"]] == ["2026-03-10"]


async def test_closing_an_overdue_loan_clears_it_and_stops_the_penalty(ingestion, admin_token, clock):
    app, client = ingestion
    loan_id = new_loan_id()
    await post(client, admin_token, loan_booked(loan_id, ("2026-01-10", "1000", "50")))

    await post(client, admin_token, loan_closed(loan_id, "written_off", closed_at="2026-01-20T09:00:00+08:00"))
    clock.advance(days=30)

    assert [(t, d.get("reason")) for t, d in await notices(app, loan_id)] == [("LoanOverdue", None), ("OverdueCleared", "closed")]
    view = await loan(client, admin_token, loan_id)
    assert (view["status"], view["penalty_accrued"], view["close_reason"]) == ("closed", "5.00", "written_off")


async def test_a_bounced_debit_is_recorded_and_changes_no_figure(ingestion, admin_token):
    app, client = ingestion
    loan_id = new_loan_id()
    await post(client, admin_token, loan_booked(loan_id, ("2026-02-10", "1000", "50")))

    assert await post(client, admin_token, repayment_failed(loan_id, seq=1)) == ["accepted"]
    assert await post(client, admin_token, repayment_failed(loan_id, seq=7)) == ["rejected"]

    assert (await loan(client, admin_token, loan_id))["status"] == "current"
    assert await notices(app, loan_id) == []


async def test_the_daily_sweep_announces_a_loan_that_fell_overdue_overnight(ingestion, admin_token, clock):
    app, client = ingestion
    loan_id = new_loan_id()
    await post(client, admin_token, loan_booked(loan_id, ("2026-01-21", "1000", "50"), ("2026-02-21", "1000", "40")))
    clock.advance(days=3)  # 2026-01-23 in Shanghai: two days past the first due date

    response = await client.post("/v1/aging-sweeps", headers=auth(admin_token))

    assert response.status_code == 200, response.text
    [(kind, data)] = await notices(app, loan_id)
    assert (kind, data["days_past_due"], data["overdue_amount"], data["penalty_accrued"]) == ("LoanOverdue", 2, "1051.00", "1.00")


async def test_the_sweep_accrues_penalty_once_a_day_and_agrees_with_the_ledger(ingestion, admin_token, clock):
    app, client = ingestion
    loan_id = new_loan_id()
    await post(client, admin_token, loan_booked(loan_id, ("2026-01-10", "1000", "50"), ("2026-01-15", "800", "40")))
    await post(client, admin_token, repayment(loan_id, "300"))

    for _ in range(3):
        clock.advance(days=1)
        await client.post("/v1/aging-sweeps", headers=auth(admin_token))
    await client.post("/v1/aging-sweeps", headers=auth(admin_token))  # a second run the same day adds nothing

    amounts = [d["overdue_amount"] for t, d in await notices(app, loan_id)]
    assert len(amounts) == 5 and len(set(amounts)) == 5  # booked, paid, and one per day swept
    view = await loan(client, admin_token, loan_id)
    assert view["overdue_amount"] == amounts[-1]
    # The sweep's SQL and a rebuild from the events must agree to the cent.
    await post(client, admin_token, repayment(loan_id, "0.01"))
    rebuilt = await loan(client, admin_token, loan_id)
    assert rebuilt["penalty_accrued"] == view["penalty_accrued"]


async def test_a_payment_ahead_of_its_loan_in_the_same_batch_waits_for_it_there(ingestion, admin_token):
    app, client = ingestion
    loan_id = new_loan_id()

    statuses = await post(client, admin_token, repayment(loan_id, "500"), loan_booked(loan_id, ("2026-01-10", "1000", "50")))

    assert statuses == ["accepted", "accepted"]
    view = await loan(client, admin_token, loan_id)
    # Paid on the 20th, ten days late: 5.00 penalty, 50 interest, 445 principal; 555 principal left.
    assert view["overdue_amount"] == "555.00"
    # Booked and paid in one batch: the bus hears the loan once, with its figures after both.
    assert [(t, d["overdue_amount"]) for t, d in await notices(app, loan_id)] == [("LoanOverdue", "555.00")]


async def test_amounts_written_with_an_exponent_are_stored_as_the_numbers_they_are(ingestion, admin_token):
    app, client = ingestion
    loan_id = new_loan_id()
    booked = loan_booked(loan_id, ("2026-01-10", "1000", "5.0E+1"), principal="1E+3", penalty_rate_daily="5E-4")

    await post(client, admin_token, booked, repayment(loan_id, "1.055E+3", paid_at="2026-01-15T10:00:00+08:00"))

    view = await loan(client, admin_token, loan_id)
    assert (view["principal"], view["penalty_rate_daily"]) == ("1000.00", "0.0005")
    assert view["installments"][0]["due"] == {"principal": "1000.00", "interest": "50.00"}
    # Paid five days late: 2.50 penalty, 50 interest, 1000 principal, and 2.50 left over as credit.
    assert view["installments"][0]["paid"] == {"principal": "1000.00", "interest": "50.00", "penalty": "2.50"}
    assert view["credit_balance"] == "2.50"
