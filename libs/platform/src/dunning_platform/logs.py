"""JSON log lines with personal data masked before anything is written."""

import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

from dunning_platform.tracing import current_trace_id

_MASKS = (
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), lambda m: m.group(0)[0] + "***@***"),
    # Phone numbers: 8 to 15 digits, optionally spaced; dates and ids with dashes are left alone.
    (re.compile(r"(?<![\w.-])\+?\d(?: ?\d){7,14}(?![\w.-])"), lambda m: "***" + m.group(0)[-2:]),
)
# Extra fields a log call may carry; `name` is not among them: on a LogRecord it is the logger's name.
PII_FIELDS = {"borrower", "phone", "email", "address", "borrower_name", "id_number"}


def mask(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


class PiiMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Format first, then mask: masking the arguments one by one would break "%d" and friends.
        record.msg = mask(record.getMessage())
        record.args = None
        for field in PII_FIELDS & record.__dict__.keys():
            setattr(record, field, "***")
        return True


class TraceIdFilter(logging.Filter):
    """Adds the trace id of the event or request being handled, to find its spans from a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        trace_id = current_trace_id()
        if trace_id and not hasattr(record, "trace_id"):
            record.trace_id = trace_id
        return True


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (test runners swap and close theirs)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure(service: str, level: str = "INFO", stream=None) -> None:
    handler = logging.StreamHandler(stream) if stream else _CurrentStderr()
    handler.setFormatter(
        JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", static_fields={"service": service})
    )
    handler.addFilter(PiiMaskingFilter())
    handler.addFilter(TraceIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiokafka").setLevel("WARNING")
