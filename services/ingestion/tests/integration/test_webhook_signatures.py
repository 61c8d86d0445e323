"""A lender configured with a webhook secret must sign each request: `X-Dunning-Signature: t=..,v1=..`."""

import json

import httpx
import pytest
from asgi_lifespan import LifespanManager
from ingestion_testkit.events import loan_booked, new_loan_id

from dunning_ingestion.config import Settings
from dunning_ingestion.entrypoints.intake import sign
from dunning_ingestion.main import create_service_app

SECRET = b"acme-webhook-secret"


@pytest.fixture(scope="module")
async def signed_ingestion(database_factory, kafka_bootstrap, tokens_file, clock):
    """Ingestion where lender acme signs its webhooks."""
    settings = Settings(
        database_url=await database_factory.create("ingestion"),
        kafka_bootstrap=kafka_bootstrap,
        tokens_file=tokens_file,
        aging_sweep_poll_seconds=3600,
        lenders={"acme": {"webhook_secret": SECRET.decode()}},
    )
    app = create_service_app(settings, clock=clock)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
            yield client


@pytest.fixture(scope="module")
def acme_token(make_token) -> str:
    return make_token("events:write", lender="acme")


def signed(token: str, body: bytes, *, at: int, secret: bytes = SECRET) -> dict:
    return {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "X-Dunning-Signature": f"t={at},v1={sign(secret, at, body)}",
    }


def a_booking() -> tuple[str, bytes]:
    loan_id = new_loan_id()
    return loan_id, json.dumps(loan_booked(loan_id, ("2026-02-10", "1000", "50"))).encode()


async def is_booked(client, loan_id: str, admin_token: str) -> bool:
    response = await client.get(f"/v1/loans/{loan_id}", headers={"Authorization": f"Bearer {admin_token}"})
    return response.status_code == 200


async def test_a_request_signed_with_the_lenders_secret_is_accepted(signed_ingestion, acme_token, admin_token, clock):
    loan_id, body = a_booking()

    response = await signed_ingestion.post("/v1/repayment-events", content=body, headers=signed(acme_token, body, at=int(clock.now().timestamp())))

    assert response.status_code == 202, response.text
    assert await is_booked(signed_ingestion, loan_id, admin_token)


async def test_a_request_without_a_signature_is_refused_and_changes_nothing(signed_ingestion, acme_token, admin_token):
    loan_id, body = a_booking()
    headers = {"Authorization": f"Bearer {acme_token}", "Content-Type": "application/json"}

    response = await signed_ingestion.post("/v1/repayment-events", content=body, headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert "X-Dunning-Signature header is missing" in response.json()["detail"]
    assert not await is_booked(signed_ingestion, loan_id, admin_token)


async def test_a_signature_made_with_another_secret_is_refused(signed_ingestion, acme_token, clock):
    _, body = a_booking()
    headers = signed(acme_token, body, at=int(clock.now().timestamp()), secret=b"guessed")

    response = await signed_ingestion.post("/v1/repayment-events", content=body, headers=headers)

    assert response.status_code == 401
    assert "does not match" in response.json()["detail"]


async def test_a_signed_body_altered_on_the_way_is_refused(signed_ingestion, acme_token, clock):
    _, body = a_booking()
    headers = signed(acme_token, body, at=int(clock.now().timestamp()))

    response = await signed_ingestion.post("/v1/repayment-events", content=body.replace(b"1000", b"9000"), headers=headers)

    assert response.status_code == 401
    assert "does not match" in response.json()["detail"]


async def test_a_signature_older_than_the_tolerance_is_refused_as_stale(signed_ingestion, acme_token, clock):
    _, body = a_booking()
    stale = int(clock.now().timestamp()) - 301

    response = await signed_ingestion.post("/v1/repayment-events", content=body, headers=signed(acme_token, body, at=stale))

    assert response.status_code == 401
    assert "more than 300 s from now" in response.json()["detail"]


async def test_a_malformed_signature_header_says_what_is_expected(signed_ingestion, acme_token):
    _, body = a_booking()
    headers = {"Authorization": f"Bearer {acme_token}", "Content-Type": "application/json", "X-Dunning-Signature": "sha256=abc"}

    response = await signed_ingestion.post("/v1/repayment-events", content=body, headers=headers)

    assert response.status_code == 401
    assert "t=<unix seconds>,v1=" in response.json()["detail"]


async def test_a_token_without_a_lender_needs_no_signature(signed_ingestion, admin_token):
    loan_id, body = a_booking()
    headers = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}

    response = await signed_ingestion.post("/v1/repayment-events", content=body, headers=headers)

    assert response.status_code == 202, response.text
