"""Lending platforms posting events over HTTP: same handlers as the bus, answers per item."""

from ingestion_testkit.events import loan_booked, new_loan_id, repayment
from ingestion_testkit.probes import outbox

from dunning_contracts import Topics


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_one_valid_event_is_accepted_applied_and_republished_to_the_inbound_topic(ingestion, admin_token):
    app, client = ingestion
    loan_id = new_loan_id()
    event = loan_booked(loan_id, ("2026-02-10", "1000", "50"))

    response = await client.post("/v1/repayment-events", json=event, headers=auth(admin_token))

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "accepted"
    loan = (await client.get(f"/v1/loans/{loan_id}", headers=auth(admin_token))).json()
    assert (loan["status"], loan["outstanding_balance"]) == ("current", "1050.00")
    republished = await outbox(app, loan_id, topic=Topics.REPAYMENT_EVENTS)
    assert [e["id"] for e in republished] == [event["id"]]


async def test_the_same_event_posted_twice_is_a_duplicate_the_second_time(ingestion, admin_token):
    _, client = ingestion
    event = loan_booked(new_loan_id(), ("2026-02-10", "1000", "50"))
    await client.post("/v1/repayment-events", json=event, headers=auth(admin_token))

    again = await client.post("/v1/repayment-events", json=event, headers=auth(admin_token))

    assert (again.status_code, again.json()["status"]) == (200, "duplicate")


async def test_a_batch_keeps_its_valid_items_and_names_what_is_wrong_with_the_others(ingestion, admin_token):
    app, client = ingestion
    loan_id = new_loan_id()
    booked = loan_booked(loan_id, ("2026-01-10", "1000", "50"))
    negative = repayment(loan_id, "-5")
    wrong_currency = repayment(loan_id, "100", currency="USD")
    paid = repayment(loan_id, "300")

    response = await client.post(
        "/v1/repayment-events", json=[booked, negative, wrong_currency, paid, booked], headers=auth(admin_token)
    )

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "rejected", "accepted", "duplicate"]
    assert results[1]["errors"][0]["field"] == "data.amount"
    assert results[2]["errors"][0]["field"] == "data.currency"
    loan = (await client.get(f"/v1/loans/{loan_id}", headers=auth(admin_token))).json()
    assert loan["installments"][0]["paid"] == {"principal": "245.00", "interest": "50.00", "penalty": "5.00"}
    assert [e["type"] for e in await outbox(app, loan_id, topic=Topics.REPAYMENT_EVENTS)] == ["LoanBooked", "RepaymentReceived"]


async def test_a_request_without_a_token_is_refused(ingestion):
    _, client = ingestion
    response = await client.post("/v1/repayment-events", json=loan_booked(new_loan_id(), ("2026-02-10", "1000", "50")))
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_token_without_the_events_scope_is_forbidden(ingestion, make_token):
    _, client = ingestion
    event = loan_booked(new_loan_id(), ("2026-02-10", "1000", "50"))
    response = await client.post("/v1/repayment-events", json=event, headers=auth(make_token("cases:read")))
    assert response.status_code == 403


async def test_an_invalid_event_gets_422_naming_the_field(ingestion, admin_token):
    _, client = ingestion
    event = loan_booked(new_loan_id(), ("2026-02-10", "1000", "50"))
    event["data"]["installments"][0]["due_date"] = "2026-02-30"

    response = await client.post("/v1/repayment-events", json=event, headers=auth(admin_token))

    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "data.installments.0.due_date"
    assert "data.installments.0.due_date" in body["detail"]


async def test_an_unknown_event_type_is_refused_with_the_type_named(ingestion, admin_token):
    _, client = ingestion
    event = repayment(new_loan_id(), "10") | {"type": "LoanDefaulted"}
    response = await client.post("/v1/repayment-events", json=event, headers=auth(admin_token))
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "type")


async def test_an_unknown_loan_is_not_found(ingestion, admin_token):
    _, client = ingestion
    response = await client.get(f"/v1/loans/{new_loan_id()}", headers=auth(admin_token))
    assert response.status_code == 404


async def test_a_lender_token_cannot_touch_another_lenders_loans(ingestion, admin_token, make_token):
    _, client = ingestion
    loan_id = new_loan_id()
    await client.post("/v1/repayment-events", json=loan_booked(loan_id, ("2026-02-10", "1000", "50")), headers=auth(admin_token))
    other = auth(make_token("events:write", lender="other-bank"))

    payment = await client.post("/v1/repayment-events", json=repayment(loan_id, "10"), headers=other)
    booking = await client.post("/v1/repayment-events", json=loan_booked(new_loan_id(), ("2026-02-10", "1", "0")), headers=other)

    assert (payment.status_code, payment.json()["errors"][0]["field"]) == (422, "data.loan_id")
    assert (booking.status_code, booking.json()["errors"][0]["field"]) == (422, "data.lender")


async def test_an_event_larger_than_the_limit_is_refused_in_a_batch_and_its_neighbour_kept(ingestion, admin_token):
    _, client = ingestion
    loan_id = new_loan_id()
    huge = repayment(loan_id, "10") | {"padding": "x" * 300_000}

    response = await client.post(
        "/v1/repayment-events", json=[huge, loan_booked(loan_id, ("2026-02-10", "1000", "50"))], headers=auth(admin_token)
    )

    assert [(r["status"], r.get("errors", [{}])[0].get("field")) for r in response.json()["results"]] == [
        ("rejected", "event"),
        ("accepted", None),
    ]
