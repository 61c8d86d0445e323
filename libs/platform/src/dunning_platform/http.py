"""The FastAPI frame of every service: probes, metrics, auth store, problem+json, size limit."""

import time
from contextlib import asynccontextmanager
from typing import Protocol

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from dunning_platform import logs
from dunning_platform.auth import TokenStore
from dunning_platform.metrics import HTTP_LATENCY, HTTP_REQUESTS
from dunning_platform.problems import install_problem_handlers, problem
from dunning_platform.settings import ServiceSettings


class Lifecycle(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def ready(self) -> tuple[bool, str]: ...


def create_app(*, title: str, settings: ServiceSettings, routers: list[APIRouter], runtime: Lifecycle) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        logs.configure(title, settings.log_level)
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, version="1.0.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.token_store = TokenStore(settings.tokens_file)
    install_problem_handlers(app)
    _add_probes(app, runtime)
    _add_request_middleware(app, settings.max_request_bytes)
    for router in routers:
        app.include_router(router)
    return app


def _add_probes(app: FastAPI, runtime: Lifecycle) -> None:
    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {"description": "not ready"}})
    async def readyz():
        ok, detail = await runtime.ready()
        return {"status": "ready"} if ok else problem(503, "Not ready", detail)

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _add_request_middleware(app: FastAPI, max_bytes: int) -> None:
    @app.middleware("http")
    async def measure_and_limit(request: Request, call_next):
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            return problem(413, "Request too large", f"the body exceeds {max_bytes} bytes")
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        HTTP_LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        return response
