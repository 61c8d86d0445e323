"""Fixtures of the system tests: the whole platform as processes, and a Kafka client watching its bus."""

import shutil
from pathlib import Path

import pytest

from dunning_platform.devstack.harness import Platform, new_platform, scratch_dir
from dunning_platform.testing import BusWatcher
from tests.outside import TOPICS, started_platform


@pytest.fixture
def platform_factory():
    """`platform_factory(extra_env, root)` gives an unstarted Platform (in a fresh directory unless
    `root` names one); every one is stopped, and its directory removed, after the test."""
    made: list[Platform] = []
    roots: set[Path] = set()

    def make(extra_env: dict[str, str] | None = None, root: Path | None = None) -> Platform:
        root = root or scratch_dir()
        roots.add(root)
        made.append(new_platform(root, extra_env))
        return made[-1]

    yield make
    for platform in made:
        platform.stop()
    for root in roots:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def running_platform(request):
    """The real platform, started once for a test module and stopped (as by Ctrl-C) after it."""
    with started_platform(request) as platform:
        yield platform


@pytest.fixture(scope="module")
def bus(running_platform: Platform):
    watcher = BusWatcher(running_platform.broker, TOPICS + [f"{topic}.dlq" for topic in TOPICS])
    watcher.wait_until_assigned()
    yield watcher
    watcher.close()
