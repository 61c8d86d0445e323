"""The platform driven from outside, as a user runs it: `python -m dunning_platform.devstack run` in a
state dir of its own, on free ports, so that it runs beside `make run` and other tests. System tests,
fault tests and benchmarks start it through this."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from dunning_platform.devstack.processes import free_port
from dunning_platform.devstack.services import SERVICES
from dunning_platform.devstack.services import service as service_named


READY_BAR_SECONDS = 90


class PlatformError(AssertionError):
    """The platform did not start or stop as it should; the message carries its output and log tails."""


@dataclass
class Platform:
    """A running supervisor and what it started; `stop()` is what Ctrl-C does."""

    state_dir: Path
    ports: dict[str, int]
    env: dict[str, str]
    output_path: Path
    process: subprocess.Popen | None = None
    pids: set[int] = field(default_factory=set)

    @property
    def broker(self) -> str:
        return f"127.0.0.1:{self.ports['broker']}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def provider_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['provider']}"

    @property
    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    @property
    def admin_token(self) -> str:
        return (self.state_dir / "admin.token").read_text().strip()

    def start(self) -> "Platform":
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.output_path, "ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dunning_platform.devstack", "run"],
                env=self.env, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        return self

    def wait_until_ready(self, timeout: float = READY_BAR_SECONDS) -> float:
        """Seconds until the supervisor announced every service; fails with its output otherwise."""
        started = time.monotonic()
        marks = self.output.count("all services ready")
        while self.output.count("all services ready") == marks:
            if self.process.poll() is not None:
                raise PlatformError(f"the platform exited with {self.process.returncode}:\n{self.output}{self.logs()}")
            if time.monotonic() - started > timeout:
                raise PlatformError(f"not ready within {timeout:.0f} s:\n{self.output}{self.logs()}")
            time.sleep(0.1)
        self.pids |= self.process_tree()
        return time.monotonic() - started

    def process_tree(self) -> set[int]:
        """The supervisor's children, and PostgreSQL, which runs in a session of its own."""
        pids = {child.pid for child in psutil.Process(self.process.pid).children(recursive=True)}
        postmaster = self.state_dir / "pg" / "postmaster.pid"
        if postmaster.exists():
            pids.add(int(postmaster.read_text().split()[0]))
        return pids

    def pid_of(self, service: str) -> int:
        """The process id of a service, to kill it as a crash would."""
        package = service_named(service).package
        for child in psutil.Process(self.process.pid).children():
            try:
                if f"{package}.main:app" in " ".join(child.cmdline()):
                    return child.pid
            except psutil.Error:  # one killed a moment ago and not yet reaped
                continue
        raise LookupError(f"{service} is not running")

    def stop(self, signum: int = signal.SIGINT, timeout: float = 60) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill_everything()
            raise PlatformError(f"the platform did not stop within {timeout} s:\n{self.output}")

    def leftovers(self) -> list[str]:
        alive = []
        for pid in self.pids:
            try:
                process = psutil.Process(pid)
                if process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{pid} {' '.join(process.cmdline())[:120]}")
            except psutil.NoSuchProcess:
                pass
        return alive

    def logs(self) -> str:
        log_dir = self.state_dir / "logs"
        if not log_dir.exists():
            return ""
        tails = []
        for log in sorted(log_dir.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()[-15:]
            tails.append(f"\n--- {log.name}\n" + "\n".join(lines))
        return "".join(tails)

    def _kill_everything(self) -> None:
        for pid in self.pids | self.process_tree() | {self.process.pid}:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def platform_env(state_dir: Path, extra: dict[str, str] | None = None) -> tuple[dict[str, str], dict[str, int]]:
    """Environment for a supervisor on free ports, so it runs beside `make run` and other tests."""
    names = [svc.name for svc in SERVICES] + ["broker", "provider", "smtp"]
    ports = dict(zip(names, _distinct_free_ports(len(names))))
    env = dict(os.environ)
    env |= {f"{svc.env_prefix}HTTP_PORT": str(ports[svc.name]) for svc in SERVICES}
    env |= {
        "DUNNING_STATE_DIR": str(state_dir),
        "DUNNING_BROKER_PORT": str(ports["broker"]),
        "DUNNING_PROVIDER_PORT": str(ports["provider"]),
        "DUNNING_PROVIDER_SMTP_PORT": str(ports["smtp"]),
        "PYTHONUNBUFFERED": "1",
    }
    return env | (extra or {}), ports


def _distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def new_platform(root: Path, extra_env: dict[str, str] | None = None) -> Platform:
    state_dir = root / "state"
    env, ports = platform_env(state_dir, extra_env)
    return Platform(state_dir, ports, env, root / "supervisor.out")


def scratch_dir() -> Path:
    # Not under pytest's tmp_path: PostgreSQL runs as another user when tests run as root, and pytest
    # resets its base directory to 0700 whenever a session starts, which would lock the server out.
    return Path(tempfile.mkdtemp(prefix="dunning-system-", dir="/tmp"))


