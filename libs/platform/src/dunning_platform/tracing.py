"""W3C trace context carried across the bus, so one loan can be followed through all four services.

The consumer makes the incoming event's trace current while its handler runs; every event the handler
emits continues that trace (same trace id, new span id) in its `traceparent` attribute and header.

With an OTLP endpoint set (`Tracing(service, endpoint)`), spans are recorded with the OpenTelemetry SDK
and exported over OTLP/HTTP: an HTTP request, a run of consumed events, an outbox publish. Emitted events
then carry the span that caused them as their parent. Without one, `Tracing.span` only sets the trace
context above: no SDK is imported and nothing is recorded."""

import contextlib
import contextvars
import os
import re
from collections.abc import Iterator

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("traceparent", default=None)
# True while the current traceparent names a recorded span, which events emitted now take as their parent.
_recorded: contextvars.ContextVar[bool] = contextvars.ContextVar("traceparent_recorded", default=False)


def new_traceparent(trace_id: str | None = None) -> str:
    # One read of the random source per event: this runs for every event a service emits.
    raw = os.urandom(24).hex()
    return f"00-{trace_id or raw[:32]}-{raw[32:]}-01"


def trace_id_of(traceparent: str | None) -> str | None:
    match = _TRACEPARENT.match(traceparent or "")
    return match.group(1) if match else None


def child_traceparent() -> str:
    """A traceparent for an event emitted now: continues the current trace, or starts one."""
    if _recorded.get():
        return _current.get()
    return new_traceparent(trace_id_of(_current.get()))


def current_trace_id() -> str | None:
    return trace_id_of(_current.get())


class continuing:
    """`with continuing(event_traceparent):` makes that trace current for the block."""

    def __init__(self, traceparent: str | None) -> None:
        self._traceparent = traceparent if trace_id_of(traceparent) else None

    def __enter__(self) -> None:
        self._token = _current.set(self._traceparent)
        self._recorded = _recorded.set(False)

    def __exit__(self, *exc_info) -> None:
        _recorded.reset(self._recorded)
        _current.reset(self._token)


class Tracing:
    """One service's spans. `with tracing.span("consume LoanOverdue", traceparent, kind="consumer"):`"""

    def __init__(self, service: str, endpoint: str | None = None, *, from_environment: bool = True) -> None:
        if from_environment:
            endpoint = endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None
        self._provider = _exporting_provider(service, endpoint) if endpoint else None
        self._tracer = self._provider.get_tracer("dunning") if self._provider else None

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    @contextlib.contextmanager
    def span(
        self, name: str, traceparent: str | None = None, *, kind: str = "internal", attributes: dict | None = None
    ) -> Iterator[object | None]:
        """A span continuing `traceparent` (or the current trace), made current for the block; yields
        the span, or None when nothing is recorded."""
        if self._tracer is None:
            with continuing(traceparent or _current.get()):
                yield None
            return
        with self._tracer.start_as_current_span(
            name, context=_parent_context(traceparent or _current.get()), kind=_kind(kind), attributes=attributes
        ) as span:
            with _recording(_traceparent_of_span(span)):
                yield span

    def shutdown(self) -> None:
        """Export what is buffered, then stop the exporter."""
        if self._provider is not None:
            self._provider.shutdown()


def _exporting_provider(service: str, endpoint: str):
    # Imported only when exporting: a service without an endpoint never loads the SDK.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")))
    return provider


def _parent_context(traceparent: str | None):
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract({"traceparent": traceparent} if trace_id_of(traceparent) else {})


def _kind(kind: str):
    from opentelemetry.trace import SpanKind

    return SpanKind[kind.upper()]


def _traceparent_of_span(span) -> str:
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-01"


@contextlib.contextmanager
def _recording(traceparent: str) -> Iterator[None]:
    current, recorded = _current.set(traceparent), _recorded.set(True)
    try:
        yield
    finally:
        _recorded.reset(recorded)
        _current.reset(current)
