"""What the tests that drive the platform from outside share: the contract's topics, CloudEvents as a
lending platform writes them, a zone where it is afternoon now, and a started platform whose state and
logs are kept when a test failed."""

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from dunning_platform.devstack.harness import Platform, new_platform, scratch_dir

TOPICS = [
    "lending.repayment-events.v1", "dunning.loan-overdue.v1", "dunning.reminder-requested.v1",
    "dunning.reminder-sent.v1", "dunning.case-escalated.v1", "dunning.legal-case.v1",
]


def cloud_event(type_: str, data: dict, *, source: str, event_id: str | None = None) -> dict:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": type_,
        "time": datetime.now(UTC).isoformat(),
        "subject": data["loan_id"],
        "datacontenttype": "application/json",
        "data": data,
    }


def afternoon_timezone() -> str:
    """A zone where it is early afternoon now, so quiet hours cannot hold a reminder back."""
    offset = 13 - datetime.now(UTC).hour
    offset = offset - 24 if offset > 14 else offset
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


@contextmanager
def started_platform(request: pytest.FixtureRequest, extra_env: dict[str, str] | None = None) -> Iterator[Platform]:
    """The real platform as processes, stopped (as by Ctrl-C) afterwards. When a test failed meanwhile,
    its state dir (logs included) is kept and named."""
    failures_before = request.session.testsfailed
    root = scratch_dir()
    platform = new_platform(root, extra_env)
    platform.start()
    try:
        platform.wait_until_ready()
        yield platform
    finally:
        platform.stop()
        if request.session.testsfailed == failures_before:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"\nthe platform's state and logs are kept in {root}")
