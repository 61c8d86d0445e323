"""Spans exported over OTLP/HTTP to a real receiver: one loan followed from an HTTP request in one
service, through its outbox, to the consumer of another service."""

import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import asgi_lifespan
import httpx
import pytest
from fastapi import APIRouter, Request
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from dunning_contracts import Topics
from dunning_contracts.events import OverdueCleared
from dunning_messaging import ConsumerSpec, Runtime, messaging_tables
from dunning_messaging.testing import database_with_messaging_tables
from dunning_platform.db import service_metadata
from dunning_platform.http import create_app
from dunning_platform.settings import ServiceSettings
from dunning_platform.testing import async_wait_for
from dunning_platform.tracing import new_traceparent, trace_id_of

pytestmark = pytest.mark.slow


class OtlpReceiver:
    """An OTLP/HTTP endpoint: decodes each protobuf export request into (service, span) pairs."""

    def __init__(self) -> None:
        self.spans: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.spans += _decode(body) if self.path == "/v1/traces" else []
                self.send_response(200 if self.path == "/v1/traces" else 404)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()


def _decode(body: bytes) -> list[dict]:
    request = ExportTraceServiceRequest.FromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            spans += [
                {
                    "service": attributes.get("service.name"),
                    "name": span.name,
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_id": span.parent_span_id.hex(),
                }
                for span in scope_spans.spans
            ]
    return spans


@pytest.fixture
def receiver():
    receiver = OtlpReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
async def database_url(postgres_admin_url):
    return await database_with_messaging_tables(postgres_admin_url, "traces", ["trace_front", "trace_back"])


def settings(database_url: str, bootstrap: str, endpoint: str, tmp_path, name: str) -> ServiceSettings:
    return ServiceSettings(
        database_url=database_url,
        kafka_bootstrap=bootstrap,
        tokens_file=tmp_path / "tokens.json",
        source=f"urn:test:{name}",
        otlp_endpoint=endpoint,
    )


clearances = APIRouter()


@clearances.post("/v1/clearances/{loan_id}")
async def clear(loan_id: str, request: Request) -> dict:
    async with request.app.state.runtime.uow() as uow:
        uow.emit("OverdueCleared", OverdueCleared(loan_id=loan_id, reason="paid", cleared_at=datetime.now(UTC)))
        await uow.commit()
    return {"loan_id": loan_id}


CONSUMED: list[str] = []


async def on_overdue_cleared(uow, event, data: OverdueCleared) -> None:
    CONSUMED.append(data.loan_id)


@pytest.fixture
async def front(database_url, kafka_bootstrap, receiver, tmp_path):
    """A service with an HTTP route that emits an event."""
    runtime = Runtime(
        settings(database_url, kafka_bootstrap, receiver.endpoint, tmp_path, "front"),
        messaging_tables(service_metadata("trace_front")),
        service="trace-front",
        schema="trace_front",
        produces=[Topics.LOAN_OVERDUE],
    )
    app = create_app(title="trace-front", settings=runtime.settings, routers=[clearances], runtime=runtime)
    async with asgi_lifespan.LifespanManager(app):
        yield httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t")


@pytest.fixture
async def back(database_url, kafka_bootstrap, receiver, tmp_path):
    """Another service, consuming that event."""
    spec = ConsumerSpec("trace-back", [Topics.LOAN_OVERDUE], {"OverdueCleared": on_overdue_cleared})
    runtime = Runtime(
        settings(database_url, kafka_bootstrap, receiver.endpoint, tmp_path, "back"),
        messaging_tables(service_metadata("trace_back")),
        service="trace-back",
        schema="trace_back",
        consumers=[spec],
    )
    await runtime.start()
    yield runtime
    await runtime.stop()


async def test_one_loan_is_followed_from_a_request_in_one_service_to_the_consumer_in_another(front, back, receiver):
    traceparent = new_traceparent()
    loan = f"L-traced-{uuid.uuid4().hex[:6]}"

    response = await front.post(f"/v1/clearances/{loan}", headers={"traceparent": traceparent})
    assert response.status_code == 200
    await async_wait_for(_async(lambda: loan in CONSUMED), timeout=45, what="the event consumed by the other service")
    spans = await async_wait_for(
        _async(lambda: _of_trace(receiver, trace_id_of(traceparent), 3)), timeout=30, what="the spans exported"
    )

    by_name = {span["name"]: span for span in spans}
    assert {span["service"] for span in spans} == {"trace-front", "trace-back"}
    request, publish, consume = by_name["POST /v1/clearances/{loan_id}"], by_name[f"publish {Topics.LOAN_OVERDUE}"], by_name["consume OverdueCleared"]
    assert request["parent_id"] == traceparent.split("-")[2]
    assert publish["parent_id"] == request["span_id"]
    assert consume["parent_id"] == publish["span_id"]
    assert consume["service"] == "trace-back"


def _of_trace(receiver: OtlpReceiver, trace_id: str, at_least: int) -> list[dict] | None:
    spans = [span for span in receiver.spans if span["trace_id"] == trace_id]
    return spans if len(spans) >= at_least else None


def _async(condition):
    async def check():
        return condition()

    return check
