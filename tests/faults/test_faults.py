"""The platform under faults: SIGKILLs to every service, PostgreSQL and broker restarts, replicas joining
and leaving, poison, duplicate floods and oversized records, while loans stream in. Nothing may be lost
and nothing done twice. Sizes come from the environment (FAULTS_LOANS, FAULTS_RATE, FAULTS_KILLS, ...);
the defaults are a small run, the short run is `FAULTS_LOANS=3000 FAULTS_RATE=25 FAULTS_KILLS=6`, and
`FAULTS_LOANS=10000 FAULTS_RATE=25 FAULTS_KILLS=20` is the bar."""

import os
import sys
from dataclasses import fields
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    # pytest's importlib mode does not put the checkout on sys.path when started as `.venv/bin/pytest`.
    sys.path.insert(0, str(REPO))

from tests.faults.__main__ import parse  # noqa: E402
from tests.faults.scenario import FaultRun  # noqa: E402

pytestmark = [pytest.mark.faults, pytest.mark.slow]


def sizes_from_environment():
    argv = []
    for spec in fields(parse([])):
        value = os.environ.get(f"FAULTS_{spec.name.upper()}")
        if value is None:
            continue
        flag = "--" + spec.name.replace("_", "-")
        if isinstance(spec.default, bool):
            argv.append(flag if value.lower() in ("1", "true", "yes") else "--no-" + flag[2:])
        else:
            argv += [flag, value]
    return parse(argv)


def test_nothing_is_lost_or_done_twice_while_everything_breaks():
    sizes = sizes_from_environment()

    outcome = FaultRun(sizes).run()

    print(outcome.report.table())
    assert all(kills >= sizes.kills for kills in outcome.kills.values()), outcome.kills
    assert outcome.report.failures == [], "\n" + outcome.report.table()
