"""The fault suite runs only when asked for (`make test-faults`: `pytest tests/faults -m faults`): it
takes minutes and the whole machine, so `make test` leaves it out."""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: the fault suite (SIGKILLs, restarts, poison); run with -m faults")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "faults" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="the fault suite runs with -m faults (make test-faults)")
    for item in items:
        if item.get_closest_marker("faults"):
            item.add_marker(skip)
