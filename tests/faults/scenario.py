"""One fault run: the platform started as a user starts it, a steady stream of loans, faults on a
timeline while the stream flows, the recovery an operator would run, then the checker."""

import asyncio
import os
import random
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dunning_platform.devstack.harness import Platform, new_platform, scratch_dir
from dunning_platform.devstack.services import SERVICES
from dunning_platform.devstack.state import repo_root
from tests.faults import chaos, events
from tests.faults.chaos import Killer, Replica, say
from tests.faults.checker import Expected, Report, check_all
from tests.faults.driver import Driver
from tests.faults.settle import wait_until_quiet

# A reminder whose sender was killed mid-call is retried when its lease ends; a short lease keeps the
# run short. Everything else runs with the settings `make run` uses.
PLATFORM_ENV = {"NOTIFICATION_DISPATCH_LEASE_S": "20"}


def snapshot_code(target: Path) -> dict[str, str]:
    """A copy of the libraries' and services' code and migrations, and the environment that makes the
    platform run it. Every restart during a run then starts the code the run began with, even while the
    checkout is being edited (a service restarted on newer code would meet a schema it has not migrated)."""
    repo = repo_root()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "tests")
    paths = []
    for package in [*sorted((repo / "libs").iterdir()), *sorted((repo / "services").iterdir())]:
        if not (package / "src").is_dir():
            continue
        copy = target / package.relative_to(repo)
        shutil.copytree(package / "src", copy / "src", ignore=ignore)
        if (package / "migrations").is_dir():
            shutil.copytree(package / "migrations", copy / "migrations", ignore=ignore)
            shutil.copy2(package / "alembic.ini", copy / "alembic.ini")
        paths.append(str(copy / "src"))
    shutil.copytree(repo / "docs", target / "docs", ignore=ignore)  # the scheduler reads docs/policy
    # Ahead of the editable installs' .pth entries on sys.path, so the copy is what gets imported.
    return {"PYTHONPATH": os.pathsep.join(paths), "DUNNING_REPO_ROOT": str(target)}


@dataclass
class Sizes:
    loans: int = 600
    rate: float = 10.0  # loans per second
    kills: int = 3  # per service
    repay_share: float = 0.3
    poison_per_kind: int = 2  # per injection round
    flood_copies: int = 50
    floods: int = 2  # loans flooded per injection round
    postgres_restart: bool = True
    broker_restart: bool = True
    # The services refill the broker on their own while they keep running; off: the operator's way,
    # with the services stopped around the restart and `dunning outbox republish`.
    live_broker_recovery: bool = True
    replicas: bool = True
    seed: int = 7
    settle_timeout: float = 1800.0
    keep: bool = False  # keep the state dir (logs, databases) after the run

    @property
    def window(self) -> float:
        return self.loans / self.rate


@dataclass
class Outcome:
    report: Report
    kills: dict[str, int]
    timeline: list[str] = field(default_factory=list)
    root: Path | None = None


class FaultRun:
    def __init__(self, sizes: Sizes) -> None:
        self.sizes = sizes
        self.rng = random.Random(sizes.seed)
        self.run_id = uuid.uuid4().hex[:6]
        self.plans = events.plan_loans(sizes.loans, sizes.repay_share, self.rng, self.run_id)
        self.timeline: list[str] = []
        self.tansu = None

    def note(self, line: str) -> None:
        self.timeline.append(f"{datetime.now(UTC):%H:%M:%S} {line}")
        say(line)

    def run(self) -> Outcome:
        root = scratch_dir()
        platform = new_platform(root, PLATFORM_ENV | snapshot_code(root / "code"))
        try:
            platform.start()
            self.note(f"platform ready in {platform.wait_until_ready():.1f} s; state in {platform.state_dir}")
            return self._run_on(platform, root)
        finally:
            self._stop(platform)
            if not self.sizes.keep:
                shutil.rmtree(root, ignore_errors=True)

    def _stop(self, platform: Platform) -> None:
        code = platform.stop()
        self.note(f"platform stopped with code {code}")
        if self.tansu is not None:
            self.tansu.stop(timeout=5)

    def _run_on(self, platform: Platform, root: Path) -> Outcome:
        sizes = self.sizes
        started_at, started = datetime.now(UTC), time.time()
        driver = Driver(platform.broker, self.plans, rate=sizes.rate, seed=sizes.seed).start()
        killers = [Killer(platform, svc.name, sizes.kills, sizes.window * 0.9, random.Random(self.rng.random()))
                   for svc in SERVICES]
        for killer in killers:
            if sizes.kills:
                killer.start()
        self.killers = killers
        self._play_timeline(platform, driver, started_at, started)
        driver.done.wait()
        for killer in killers:
            if sizes.kills:
                killer.thread.join()
        self.note(f"stream sent; kills: {', '.join(f'{k.service} {k.done}' for k in killers)}")
        never = driver.finish()
        self.note(f"every message taken by the broker ({len(never)} never taken)")
        chaos.wait_until_running(platform, [svc.name for svc in SERVICES])
        settled = asyncio.run(wait_until_quiet(self.admin_dsn(platform), quiet_s=20, timeout_s=sizes.settle_timeout,
                                               say=self.note))
        self.note(f"settled {settled:.0f} s after the stream ended")
        expected = Expected.from_log(self.plans, driver.log)
        pii_key = (platform.state_dir / "pii.key").read_text().strip()
        report = asyncio.run(check_all(self.admin_dsn(platform), expected, bootstrap=platform.broker,
                                       provider_url=platform.provider_url, pii_key=pii_key))
        report.facts.insert(0, ("loans booked / repaid / reaching legal",
                                f"{len(expected.loans)} / {len(expected.repaid)} / "
                                f"{sum(p.reaches_legal for p in expected.loans.values())}"))
        report.facts.insert(1, ("SIGKILLs per service", {k.service: k.done for k in killers}))
        report.facts.append(("timeline", "\n  " + "\n  ".join(self.timeline)))
        return Outcome(report, {k.service: k.done for k in killers}, self.timeline, root)

    @staticmethod
    def admin_dsn(platform: Platform) -> str:
        return f"postgresql://postgres@/dunning?host={platform.state_dir / 'pg'}"

    # The timeline: fractions of the stream's duration, played in this (the main) thread, because a
    # process started here (the new broker, replicas) is stopped by the kernel when its parent thread ends.

    def _play_timeline(self, platform: Platform, driver: Driver, started_at: datetime, started: float) -> None:
        sizes = self.sizes
        steps = [(0.05, "poison"), (0.08, "flood")]
        if sizes.replicas:
            steps += [(0.12 + 0.06 * n, f"replica+ {svc.name}") for n, svc in enumerate(SERVICES)]
            steps += [(0.24 + 0.06 * n, f"replica- {svc.name}") for n, svc in enumerate(SERVICES)]
        if sizes.postgres_restart:
            steps.append((0.45, "postgres"))
        steps += [(0.5, "poison"), (0.52, "flood")]
        if sizes.broker_restart:
            steps.append((0.6, "broker"))
        steps += [(0.7, "poison"), (0.72, "flood"), (0.85, "poison")]
        replicas: dict[str, Replica] = {}
        for fraction, step in sorted(steps):
            wait = started + fraction * sizes.window - time.time()
            if wait > 0:
                time.sleep(wait)
            self._step(step, platform, driver, replicas, started_at, started)
        for replica in replicas.values():
            replica.stop()

    def _step(self, step: str, platform, driver: Driver, replicas: dict, started_at: datetime, started: float) -> None:
        booked = self.plans[: max(driver.booked - 1, 1)]
        if step == "poison":
            self._inject_poison(driver, booked)
        elif step == "flood":
            for plan in self.rng.sample(booked, min(self.sizes.floods, len(booked))):
                driver.flood(plan.loan_id, self.sizes.flood_copies)
            self.note(f"flooded {self.sizes.floods} loan(s) with {self.sizes.flood_copies} copies of their events")
        elif step.startswith("replica+"):
            name = step.split()[1]
            replicas[name] = Replica(platform, name).start()
            self.note(f"replica of {name} started on port {replicas[name].port}")
        elif step.startswith("replica-"):
            name = step.split()[1]
            self.note(f"replica of {name} {replicas.pop(name).stop()}")
        elif step == "postgres":
            self.note(f"PostgreSQL restarted in {chaos.restart_postgres(platform):.1f} s")
        elif step == "broker":
            self._restart_broker(platform, driver, started_at, started)

    def _inject_poison(self, driver: Driver, booked: list) -> None:
        for _ in range(self.sizes.poison_per_kind):
            plan = self.rng.choice(booked)
            for poison in (events.invalid_json(), events.invalid_json(events.LOAN_OVERDUE),
                           events.malformed_currency(plan, self.rng), events.mismatched_currency(plan),
                           events.unknown_type(plan), events.oversized(plan, self.rng)):
                driver.inject(poison)
        self.note(f"injected {self.sizes.poison_per_kind} poison message(s) of each of 6 kinds")

    def _restart_broker(self, platform: Platform, driver: Driver, started_at: datetime, started: float) -> None:
        if self.sizes.live_broker_recovery:
            return self._restart_broker_live(platform, driver, started)
        self._restart_broker_with_services_stopped(platform, driver, started_at, started)

    def _restart_broker_live(self, platform: Platform, driver: Driver, started: float) -> None:
        """The broker forgets everything while the services run (and are killed) on: each one finds its
        marker gone, rewinds its consumers, and refills the broker from its outbox (docs/operations.md).
        The lending platform re-sends what it sent since the run began: its records were lost too."""
        chaos.kill_broker(platform)
        self.tansu = chaos.start_broker(platform)
        self.note("broker killed (its memory is lost) and started again, empty, with the services running")
        self.note(f"the lending platform re-sent {driver.resend_since(started)} message(s)")

    def _restart_broker_with_services_stopped(self, platform: Platform, driver: Driver, started_at: datetime,
                                              started: float) -> None:
        """The broker forgets everything: topics, records, committed offsets. The recovery (docs: after a
        broker restart) stops every service before the new broker is reachable, because a service that
        lives through it goes wrong twice: its relay publishes new events ahead of older ones that
        the broker lost (out of order for a loan), and its consumers go on from their old positions and
        commit them, skipping the start of the refilled partitions. So, in this order:
        1. the services stop (here: frozen with SIGSTOP, as the supervisor would restart a stopped one);
        2. `dunning outbox republish <service> --since <run start>` for each service;
        3. the broker starts, empty;
        4. the services start (here: SIGKILLed out of their freeze, restarted by the supervisor); each
           creates its topics and its consumers start from the earliest offset, none being committed;
        5. the lending platform re-sends what it sent since the run began.
        Consumers skip what they already applied. Random kills pause meanwhile."""
        names = [svc.name for svc in SERVICES]
        for killer in self.killers:
            killer.allowed.clear()
        chaos.wait_until_running(platform, names)
        chaos.kill_broker(platform)
        frozen = dict(zip(names, chaos.freeze(platform, self.admin_dsn(platform), names)))
        self.note("broker killed (its memory is lost); services stopped")
        for line in chaos.republish_outboxes(platform, started_at):
            self.note(f"dunning outbox republish {line}")
        self.tansu = chaos.start_broker(platform)
        for killer in self.killers:
            killer.kill(frozen[killer.service])
        chaos.wait_until_running(platform, names)
        self.note("broker started again, empty; every service started again and created its topics")
        for killer in self.killers:
            killer.allowed.set()
        self.note(f"the lending platform re-sent {driver.resend_since(started)} message(s)")
