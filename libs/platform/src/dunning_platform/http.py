"""The FastAPI frame of every service: probes, metrics, auth store, problem+json, size limit."""

import logging
import time
from contextlib import asynccontextmanager
from typing import Protocol

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.exceptions import HTTPException
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from dunning_platform import logs
from dunning_platform.auth import TokenBuckets, TokenStore
from dunning_platform.metrics import HTTP_LATENCY, HTTP_REQUESTS
from dunning_platform.problems import install_problem_handlers, problem
from dunning_platform.settings import ServiceSettings
from dunning_platform.tracing import Tracing, current_trace_id, trace_id_of


log = logging.getLogger(__name__)
_NO_SPANS = Tracing("none", from_environment=False)


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
    app.state.rate_limits = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst)
    install_problem_handlers(app)
    _add_probes(app, runtime)
    # Added first, so it sits inside the measuring middleware and its 413 reaches the exception handlers.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    _add_request_middleware(app)
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
        # A service with metrics beyond this process's registry (ingestion's consumer processes) says so.
        return Response(generate_latest(getattr(runtime, "metrics_source", None) or REGISTRY), media_type=CONTENT_TYPE_LATEST)


WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class _BodyTooLarge(HTTPException):
    # An HTTPException, so FastAPI's body parsing passes it on instead of calling the body malformed.
    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the body exceeds {max_bytes} bytes")


class BodySizeLimit:
    """413 for a body over the limit, whether declared by Content-Length or streamed in chunks."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(scope, receive, send)
        received = 0

        async def counting_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, scope, receive, send) -> None:
        response = problem(413, "Request too large", f"the body exceeds {self.max_bytes} bytes")
        await response(scope, receive, send)


def _add_request_middleware(app: FastAPI) -> None:
    @app.middleware("http")
    async def measure_limit_and_audit(request: Request, call_next):
        started = time.perf_counter()
        with _request_span(request) as span:
            response = await call_next(request)
            route = getattr(request.scope.get("route"), "path", "unmatched")
            _name_span(span, request, route, response.status_code)
            HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
            HTTP_LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
            if request.method in WRITES and request.url.path.startswith("/v1/"):
                await _audit(request, response.status_code)
        return response


def _request_span(request: Request):
    """A server span continuing the caller's traceparent; only the trace context when nothing is exported,
    and for the probes and metrics, which are scraped every few seconds and say nothing about a loan."""
    traced = request.url.path.startswith("/v1/")
    tracing = (getattr(request.app.state.runtime, "tracing", None) if traced else None) or _NO_SPANS
    return tracing.span(f"{request.method}", request.headers.get("traceparent"), kind="server")


def _name_span(span, request: Request, route: str, status: int) -> None:
    if span is None:
        return
    # Named after the route template, not the path: ids in paths would make every span name unique.
    span.update_name(f"{request.method} {route}")
    span.set_attribute("http.request.method", request.method)
    span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)


async def _audit(request: Request, status: int) -> None:
    record = getattr(request.app.state.runtime, "audit", None)
    if record is None:
        return
    principal = getattr(request.state, "principal", None)
    try:
        await record(
            token_id=principal.token_id if principal else None,
            method=request.method,
            path=request.url.path,
            status=status,
            trace_id=trace_id_of(request.headers.get("traceparent")) or current_trace_id(),
        )
    except Exception:
        log.exception("could not write the audit record of %s %s", request.method, request.url.path)
