"""W3C trace context carried across the bus, so one loan can be followed through all four services.

The consumer makes the incoming event's trace current while its handler runs; every event the handler
emits continues that trace (same trace id, new span id) in its `traceparent` attribute and header."""

import contextvars
import re
import secrets

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("traceparent", default=None)


def new_traceparent(trace_id: str | None = None) -> str:
    return f"00-{trace_id or secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def trace_id_of(traceparent: str | None) -> str | None:
    match = _TRACEPARENT.match(traceparent or "")
    return match.group(1) if match else None


def child_traceparent() -> str:
    """A traceparent for an event emitted now: continues the current trace, or starts one."""
    return new_traceparent(trace_id_of(_current.get()))


def current_trace_id() -> str | None:
    return trace_id_of(_current.get())


class continuing:
    """`with continuing(event_traceparent):` makes that trace current for the block."""

    def __init__(self, traceparent: str | None) -> None:
        self._traceparent = traceparent if trace_id_of(traceparent) else None

    def __enter__(self) -> None:
        self._token = _current.set(self._traceparent)

    def __exit__(self, *exc_info) -> None:
        _current.reset(self._token)
