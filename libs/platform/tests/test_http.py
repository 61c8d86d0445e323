"""The HTTP frame every service shares: probes and the request size limit."""

import httpx
from fastapi import APIRouter, Request

from dunning_platform.http import create_app
from dunning_platform.settings import ServiceSettings


class IdleRuntime:
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def ready(self) -> tuple[bool, str]:
        return True, "ready"


def small_app(tmp_path, max_bytes: int = 100):
    router = APIRouter()

    @router.post("/echo")
    async def echo(request: Request) -> dict:
        return {"bytes": len(await request.body())}

    @router.post("/model")
    async def model(body: dict) -> dict:
        return {"keys": len(body)}

    settings = ServiceSettings(database_url="postgresql+asyncpg://x@/x", tokens_file=tmp_path / "t.json", max_request_bytes=max_bytes)
    return create_app(title="t", settings=settings, routers=[router], runtime=IdleRuntime())


async def post(app, content) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        return await client.post("/echo", content=content)


async def test_a_body_at_the_limit_is_read(tmp_path):
    response = await post(small_app(tmp_path), b"x" * 100)
    assert response.status_code == 200 and response.json() == {"bytes": 100}


async def test_a_declared_body_over_the_limit_gets_413(tmp_path):
    response = await post(small_app(tmp_path), b"x" * 101)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_chunked_body_over_the_limit_gets_413(tmp_path):
    async def chunks():
        for _ in range(5):
            yield b"x" * 30

    response = await post(small_app(tmp_path), chunks())
    assert response.status_code == 413


async def test_probes_answer_without_a_token(tmp_path):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(small_app(tmp_path)), base_url="http://t") as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200
        assert "http_requests_total" in (await client.get("/metrics")).text


async def test_a_chunked_json_body_over_the_limit_gets_413_not_a_parse_error(tmp_path):
    async def chunks():
        yield b'{"padding": "'
        for _ in range(5):
            yield b"x" * 30
        yield b'"}'

    async with httpx.AsyncClient(transport=httpx.ASGITransport(small_app(tmp_path)), base_url="http://t") as client:
        response = await client.post("/model", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["title"] == "Request too large"
