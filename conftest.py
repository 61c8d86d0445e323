"""Shared by every test in the repository: the fixtures on real servers, and the run order."""

pytest_plugins = ["dunning_platform.testing"]

_ORDER = ("/unit/", "/integration/", "/system/")


def _rank(item) -> int:
    path = str(item.path)
    return next((rank for rank, part in enumerate(_ORDER) if part in path), 0)


def pytest_collection_modifyitems(items) -> None:
    # Fast feedback first: unit tests, then integration, then the system tests that start whole processes.
    items.sort(key=_rank)
