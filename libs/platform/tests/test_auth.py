"""Tokens with scopes: stored hashed, checked per route, revocable without a restart."""

import json

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI

from dunning_platform.auth import RateLimited, TokenBuckets, TokenStore, issue_token, require_scope, revoke_token
from dunning_platform.problems import install_problem_handlers


def app_with_route(tokens_file) -> FastAPI:
    app = FastAPI()
    app.state.token_store = TokenStore(tokens_file)
    install_problem_handlers(app)
    router = APIRouter()

    @router.get("/v1/cases", dependencies=[Depends(require_scope("cases:read"))])
    async def cases() -> dict:
        return {"items": []}

    app.include_router(router)
    return app


async def get(app: FastAPI, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        return await client.get("/v1/cases", headers=headers)


def test_only_the_digest_of_a_token_is_stored(tmp_path):
    token = issue_token(tmp_path / "tokens.json", name="lender-a", scopes=["events:write"])
    stored = (tmp_path / "tokens.json").read_text()
    assert token not in stored
    assert json.loads(stored)["tokens"][0]["scopes"] == ["events:write"]


async def test_a_request_without_a_token_is_unauthorised(tmp_path):
    response = await get(app_with_route(tmp_path / "tokens.json"), None)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_wrong_token_is_unauthorised(tmp_path):
    issue_token(tmp_path / "tokens.json", name="x", scopes=["cases:read"])
    assert (await get(app_with_route(tmp_path / "tokens.json"), "dun_wrong")).status_code == 401


async def test_a_token_without_the_scope_is_forbidden(tmp_path):
    token = issue_token(tmp_path / "tokens.json", name="lender", scopes=["events:write"])
    response = await get(app_with_route(tmp_path / "tokens.json"), token)
    assert response.status_code == 403
    assert "cases:read" in response.json()["detail"]


async def test_admin_passes_every_scope(tmp_path):
    token = issue_token(tmp_path / "tokens.json", name="ops", scopes=["admin"])
    assert (await get(app_with_route(tmp_path / "tokens.json"), token)).status_code == 200


async def test_a_revoked_token_is_refused_at_once(tmp_path):
    tokens_file = tmp_path / "tokens.json"
    token = issue_token(tokens_file, name="agent", scopes=["cases:read"])
    app = app_with_route(tokens_file)
    assert (await get(app, token)).status_code == 200
    revoke_token(tokens_file, json.loads(tokens_file.read_text())["tokens"][0]["id"])
    assert (await get(app, token)).status_code == 401


def test_unknown_scopes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown scopes"):
        issue_token(tmp_path / "tokens.json", name="x", scopes=["everything"])


def test_a_token_over_its_rate_is_told_when_to_retry():
    clock = [0.0]
    buckets = TokenBuckets(rate=2, burst=2, now=lambda: clock[0])
    buckets.take("t")
    buckets.take("t")
    with pytest.raises(RateLimited) as refused:
        buckets.take("t")
    assert refused.value.retry_after == pytest.approx(0.5)
    clock[0] += 0.5
    buckets.take("t")
    buckets.take("other")  # each token has its own bucket
