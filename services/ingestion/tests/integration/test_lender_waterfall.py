"""A lender's own allocation order, set in INGESTION_LENDERS, decides where its borrowers' payments go."""

import json

import httpx
import pytest
from asgi_lifespan import LifespanManager
from ingestion_testkit.events import loan_booked, new_loan_id, repayment

from dunning_ingestion.config import Settings
from dunning_ingestion.main import create_service_app

PRINCIPAL_FIRST = ["principal", "interest", "penalty"]


@pytest.fixture
async def two_lenders(database_factory, kafka_bootstrap, tokens_file, clock, monkeypatch):
    monkeypatch.setenv("INGESTION_LENDERS", json.dumps({"microloan": {"waterfall": PRINCIPAL_FIRST}}))
    settings = Settings(
        database_url=await database_factory.create("ingestion"),
        kafka_bootstrap=kafka_bootstrap,
        tokens_file=tokens_file,
        aging_sweep_poll_seconds=3600,
    )
    app = create_service_app(settings, clock=clock)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
            yield client


async def test_a_payment_is_allocated_in_the_order_its_lender_configured(two_lenders, admin_token):
    client, headers = two_lenders, {"Authorization": f"Bearer {admin_token}"}
    default_loan, microloan = new_loan_id(), new_loan_id()
    # Both ten days late on 1000 principal and 50 interest, with 5.00 of penalty accrued; 500 paid on each.
    events = [
        loan_booked(default_loan, ("2026-01-10", "1000", "50")),
        loan_booked(microloan, ("2026-01-10", "1000", "50"), lender="microloan"),
        repayment(default_loan, "500"),
        repayment(microloan, "500"),
    ]
    response = await client.post("/v1/repayment-events", json=events, headers=headers)
    assert [r["status"] for r in response.json()["results"]] == ["accepted"] * 4

    default_view = (await client.get(f"/v1/loans/{default_loan}", headers=headers)).json()
    microloan_view = (await client.get(f"/v1/loans/{microloan}", headers=headers)).json()

    assert default_view["installments"][0]["paid"] == {"penalty": "5.00", "interest": "50.00", "principal": "445.00"}
    assert microloan_view["waterfall"] == PRINCIPAL_FIRST
    assert microloan_view["installments"][0]["paid"] == {"penalty": "0.00", "interest": "0.00", "principal": "500.00"}
