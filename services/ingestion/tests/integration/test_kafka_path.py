"""Lending platforms on the bus: lending.repayment-events.v1 in, dunning.loan-overdue.v1 out."""

from ingestion_testkit.events import envelope, loan_booked, new_loan_id, repayment
from ingestion_testkit.probes import about, eventually, outbox, produce, read_topic

from dunning_contracts import Topics

INBOUND = Topics.REPAYMENT_EVENTS


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_a_booked_loan_already_past_due_is_announced_overdue(ingestion, kafka_bootstrap):
    loan_id = new_loan_id()
    await produce(kafka_bootstrap, INBOUND, loan_booked(loan_id, ("2026-01-10", "1000", "50"), ("2026-02-10", "1000", "40")))

    [(event, _)] = await read_topic(kafka_bootstrap, Topics.LOAN_OVERDUE, about(loan_id, "LoanOverdue"))

    data = event["data"]
    # ten days late on 1000 at 0.05% a day: 10 x 0.50 penalty on top of 1050 due
    assert (data["overdue_since"], data["days_past_due"], data["overdue_amount"]) == ("2026-01-10", 10, "1055.00")
    assert (data["penalty_accrued"], data["outstanding_balance"]) == ("5.00", "2095.00")
    assert data["borrower_id"] == f"b-{loan_id}" and "name" not in str(data)


async def test_a_payment_covering_the_overdue_amount_clears_it(ingestion, kafka_bootstrap):
    loan_id = new_loan_id()
    await produce(kafka_bootstrap, INBOUND, loan_booked(loan_id, ("2026-01-10", "1000", "50"), ("2026-02-10", "1000", "40")))
    await read_topic(kafka_bootstrap, Topics.LOAN_OVERDUE, about(loan_id, "LoanOverdue"))

    await produce(kafka_bootstrap, INBOUND, repayment(loan_id, "1055.00"))

    [(event, _)] = await read_topic(kafka_bootstrap, Topics.LOAN_OVERDUE, about(loan_id, "OverdueCleared"))
    assert event["data"]["reason"] == "paid"


async def test_a_duplicated_event_has_no_second_effect(ingestion, kafka_bootstrap, admin_token):
    app, client = ingestion
    loan_id = new_loan_id()
    booked = loan_booked(loan_id, ("2026-01-10", "1000", "50"))
    payment = repayment(loan_id, "100")
    await produce(kafka_bootstrap, INBOUND, booked, payment, payment, booked)

    async def paid_once():
        loan = (await client.get(f"/v1/loans/{loan_id}", headers=auth(admin_token))).json()
        return loan if loan.get("overdue_amount") == "955.00" else None

    assert await eventually(paid_once)
    await produce(kafka_bootstrap, INBOUND, repayment(loan_id, "1"))  # a marker behind the duplicates
    await eventually(lambda: _overdue_amount_is(client, admin_token, loan_id, "954.00"))
    amounts = [e["data"]["overdue_amount"] for e in await outbox(app, loan_id, topic=Topics.LOAN_OVERDUE)]
    # One notice per change the bus has not heard (events of one consumer batch are announced together).
    assert amounts[-1] == "954.00" and len(amounts) == len(set(amounts))


async def _overdue_amount_is(client, token, loan_id, amount) -> bool:
    loan = (await client.get(f"/v1/loans/{loan_id}", headers=auth(token))).json()
    return loan.get("overdue_amount") == amount


async def test_poison_messages_go_to_the_dlq_with_their_reasons_while_their_neighbours_apply(ingestion, kafka_bootstrap, admin_token):
    _, client = ingestion
    loan_id = new_loan_id()
    wrong_currency = repayment(loan_id, "100", currency="USD")
    unknown_type = envelope("LoanRefinanced", {"loan_id": loan_id, "new_rate": "0.01"})
    oversized = repayment(loan_id, "100") | {"padding": "x" * 300 * 1024}  # over the 256 KiB an event may have
    await produce(
        kafka_bootstrap,
        INBOUND,
        loan_booked(loan_id, ("2026-01-10", "1000", "50")),
        wrong_currency,
        unknown_type,
        oversized,
        repayment(loan_id, "200"),
    )

    poison = {wrong_currency["id"], unknown_type["id"], oversized["id"]}
    found = await read_topic(kafka_bootstrap, f"{INBOUND}.dlq", lambda e, _: e.get("id") in poison, count=3)

    why = {event["id"]: (headers["dlq-reason"], headers["dlq-error"]) for event, headers in found}
    assert why[wrong_currency["id"]][0] == "rejected" and "data.currency" in why[wrong_currency["id"]][1]
    assert why[unknown_type["id"]] == ("invalid", "type: unknown event type 'LoanRefinanced'")
    assert why[oversized["id"]][0] == "invalid" and why[oversized["id"]][1].startswith("value: the message has")
    assert await eventually(lambda: _overdue_amount_is(client, admin_token, loan_id, "855.00"))


async def test_a_message_that_is_not_json_goes_to_the_dlq_as_invalid(ingestion, kafka_bootstrap):
    await produce(kafka_bootstrap, INBOUND, b"{not json")

    [(_, headers)] = await read_topic(kafka_bootstrap, f"{INBOUND}.dlq", lambda e, _: e.get("raw") == "{not json")

    assert headers["dlq-reason"] == "invalid"
