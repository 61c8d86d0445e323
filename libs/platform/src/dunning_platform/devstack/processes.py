"""Child processes of the dev stack: each in its own session (so a Ctrl-C reaches only the supervisor,
which stops them in order), its output in a log file, and stopped with SIGTERM, then SIGKILL."""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

_PR_SET_PDEATHSIG = 1
# Loaded here, not in the forked child: dlopen after fork in a threaded parent can deadlock.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _die_with_parent() -> None:
    # If the supervisor itself is killed (SIGKILL leaves it no time to clean up), the kernel sends the
    # children SIGTERM, so no service, broker or provider outlives it.
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    cwd: Path | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)
    started_at: float = 0.0

    def start(self) -> "Child":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self.started_at = time.monotonic()
        return self

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def exit_code(self) -> int | None:
        """None while it runs."""
        return self.process.poll() if self.process else None

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.exit_code()
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def stop_all(children: list[Child], timeout: float = 20.0) -> None:
    """SIGTERM to all at once, then wait for each; whoever outlives `timeout` gets SIGKILL."""
    running = [child for child in children if child.exit_code() is None and child.process is not None]
    for child in running:
        child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in running:
        try:
            child.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def wait_for_port(child: Child, port: int, timeout: float = 15.0, host: str = "127.0.0.1") -> None:
    """Return once `port` accepts connections; fail at once if the process dies first."""
    deadline = time.monotonic() + timeout
    while not port_in_use(port, host):
        if child.exit_code() is not None:
            raise RuntimeError(f"{child.name} exited with code {child.exit_code()}:\n{child.log_tail()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{child.name} did not listen on {host}:{port} within {timeout:.0f} s")
        time.sleep(0.02)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    return env
