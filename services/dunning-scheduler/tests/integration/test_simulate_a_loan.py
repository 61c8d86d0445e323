"""A dry run of a real loan: named by loan_id alone, its situation comes from its open case or, before
any case, from its booking; nothing about the loan changes."""

from datetime import timedelta

import httpx
import pytest

from scheduler_testkit import START, booked, new_loan_id, overdue


async def simulate(client: httpx.AsyncClient, loan: dict, days: int = 30) -> httpx.Response:
    return await client.post("/v1/policy/simulate", json={"loan": loan, "days": days})


def as_token(scheduler, token: str) -> httpx.AsyncClient:
    client = scheduler.client
    return httpx.AsyncClient(transport=client._transport, base_url=client.base_url, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
async def phone_case(scheduler) -> str:
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 20, "3000.00")))
    await scheduler.settled()
    return loan_id


async def test_a_loan_with_an_open_case_is_simulated_from_where_the_case_stands(scheduler, phone_case):
    timers_before = await scheduler.scalar("SELECT count(*) FROM scheduler.timers")

    response = await simulate(scheduler.client, {"loan_id": phone_case})

    assert response.status_code == 200, response.text
    result = response.json()
    situation = result["situation"]
    assert (situation["source"], situation["stage"], situation["days_past_due"]) == ("case", "phone", 20)
    assert (situation["overdue_amount"], situation["lender"], situation["case_status"]) == ("3000.00", "acme", "open")
    first = result["timeline"][0]
    assert (first["day"], first["stage"], first["kind"]) == (20, "phone", "agent_call")
    assert "escalation" not in [e["kind"] for e in result["timeline"] if e["day"] < 31]
    assert await scheduler.scalar("SELECT count(*) FROM scheduler.timers") == timers_before


def escalations(result: dict) -> list[tuple[int, str]]:
    return [(e["day"], e["stage"]) for e in result["timeline"] if e["kind"] == "escalation"]


async def test_what_the_request_states_wins_over_what_the_case_says(scheduler, phone_case):
    as_it_is = (await simulate(scheduler.client, {"loan_id": phone_case})).json()
    larger = (await simulate(scheduler.client, {"loan_id": phone_case, "overdue_amount": "9000.00"})).json()

    assert (larger["situation"]["overdue_amount"], larger["situation"]["days_past_due"]) == ("9000.00", 20)
    assert escalations(as_it_is) == []
    assert escalations(larger) == [(31, "field_visit")]


async def test_a_booked_loan_without_a_case_is_simulated_from_its_next_due_date(scheduler):
    loan_id = new_loan_id()
    due = START.date() + timedelta(days=5)
    await scheduler.handled(await scheduler.bus.send("LoanBooked", booked(loan_id, due, timezone="Europe/Berlin")))

    response = await simulate(scheduler.client, {"loan_id": loan_id})

    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["situation"]["source"], result["situation"]["days_past_due"]) == ("loan", -5)
    assert result["situation"]["timezone"] == "Europe/Berlin"
    assert [(e["day"], e["channel"]) for e in result["timeline"][:2]] == [(-3, "sms"), (-1, "sms")]


async def test_an_unknown_loan_or_another_lenders_is_not_found(scheduler, phone_case, make_token):
    assert (await simulate(scheduler.client, {"loan_id": "L-nobody"})).status_code == 404

    async with as_token(scheduler, make_token("cases:read", lender="beta")) as beta:
        assert (await simulate(beta, {"loan_id": phone_case})).status_code == 404
    async with as_token(scheduler, make_token("cases:read", lender="acme")) as acme:
        assert (await simulate(acme, {"loan_id": phone_case})).status_code == 200


async def test_a_hand_written_situation_still_needs_no_known_loan(scheduler):
    by_hand = {"loan_id": "L-nobody", "days_past_due": 1, "overdue_amount": "100.00"}

    response = await simulate(scheduler.client, by_hand)

    assert response.status_code == 200, response.text
    assert response.json()["situation"]["source"] == "request"
    assert (await simulate(scheduler.client, {"days_past_due": 1})).status_code == 422
