"""The trace context without an exporter: nothing recorded, the trace still carried."""

import io
import json
import logging

from dunning_platform import logs
from dunning_platform.tracing import Tracing, child_traceparent, current_trace_id, new_traceparent, trace_id_of

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_without_an_endpoint_a_span_records_nothing_and_continues_the_callers_trace(monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    tracing = Tracing("test-service")

    with tracing.span("consume LoanOverdue", CALLER, kind="consumer") as span:
        emitted = child_traceparent()

    assert not tracing.enabled and span is None
    assert trace_id_of(emitted) == trace_id_of(CALLER) and emitted != CALLER
    assert current_trace_id() is None


def test_the_standard_environment_variable_turns_export_on(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")

    assert Tracing("test-service").enabled
    assert not Tracing("test-service", from_environment=False).enabled


def test_a_log_line_written_while_a_trace_is_current_carries_its_trace_id():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    logs.configure("test-service", stream=stream)
    try:
        traceparent = new_traceparent()
        with Tracing("test-service", from_environment=False).span("work", traceparent):
            logging.getLogger("t").info("handled")
        logging.getLogger("t").info("outside")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)

    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["trace_id"] == trace_id_of(traceparent)
    assert "trace_id" not in outside
