"""Service processes for the measurements: launched as `make run` launches them (uvicorn on the
service's `main:app`, the dev stack's environment), migrated first, watched for peak RSS."""

import asyncio
import importlib.util
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from dunning_platform.devstack.environment import SharedConfig, service_env
from dunning_platform.devstack.migrate import MigrationFailed, migrate
from dunning_platform.devstack.processes import Child, base_env, free_port, wait_for_port
from dunning_platform.devstack.services import Service, service
from dunning_platform.devstack.state import repo_root

from . import bench_profile
from .bench_results import NotMeasured
from .bench_stack import BenchStack

READY_TIMEOUT = 90.0


def require_service(name: str) -> Service:
    """The service, or NotMeasured saying what of it is missing."""
    svc = service(name)
    if importlib.util.find_spec(svc.package) is None:
        raise NotMeasured(f"{svc.package} is not installed")
    if importlib.util.find_spec(f"{svc.package}.main") is None:
        raise NotMeasured(f"{svc.name} has no {svc.package}.main yet")
    if not (svc.path(repo_root()) / "alembic.ini").exists():
        raise NotMeasured(f"{svc.name} has no alembic.ini yet")
    return svc


@dataclass
class Provider:
    child: Child
    url: str
    kind: str  # "dev provider" or "minimal local server"
    smtp_port: int


def start_provider(stack: BenchStack) -> Provider:
    """The dev provider when it exists, otherwise the minimal local server, each in its own process."""
    port, smtp_port = free_port(), free_port()
    if importlib.util.find_spec("dunning_platform.devstack.provider") is not None:
        module, kind = "dunning_platform.devstack.provider", "dev provider"
        argv = [sys.executable, "-m", module, "--host", "127.0.0.1", "--port", str(port), "--smtp-port", str(smtp_port)]
    else:
        module, kind = "tests.bench.bench_mini_provider", "minimal local server"
        argv = [sys.executable, "-m", module, "--port", str(port)]
    child = Child("provider", argv, base_env(), stack.root / f"provider-{port}.log", cwd=repo_root()).start()
    wait_for_port(child, port)
    return Provider(child, f"http://127.0.0.1:{port}", kind, smtp_port)


# How often a service's process tree is looked up again. Finding a process's children reads the status of
# every process on the machine; at each sampling tick that cost the benchmark a tenth of a core.
TREE_REFRESH_S = 2.0


@dataclass
class RunningService:
    service: Service
    child: Child
    port: int
    peak_rss: int = 0
    tree: list[psutil.Process] = field(default_factory=list)
    tree_found_at: float = float("-inf")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sample_rss(self) -> None:
        self.peak_rss = max(self.peak_rss, self._tree_rss(), _high_water_mark(self.child.pid))

    def _tree_rss(self) -> int:
        if time.monotonic() - self.tree_found_at > TREE_REFRESH_S:
            self.tree, self.tree_found_at = _process_tree(self.child.pid), time.monotonic()
        total = 0
        for process in self.tree:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass  # ended since the tree was looked up
        return total


def _process_tree(pid: int | None) -> list[psutil.Process]:
    try:
        process = psutil.Process(pid)
        return [process, *process.children(recursive=True)]
    except (psutil.Error, TypeError):
        return []


def _high_water_mark(pid: int | None) -> int:
    """The kernel's own peak RSS of the process (VmHWM), which sampling can miss between ticks."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class Services:
    """The service processes of one measurement, on one database and one broker."""

    stack: BenchStack
    bootstrap: str
    urls: dict[str, str]
    provider: Provider | None = None
    running: list[RunningService] = field(default_factory=list)
    profile_label: str | None = None  # set: py-spy records each process, summarised under this label
    profiles: dict[str, dict] = field(default_factory=dict)
    _sampler: asyncio.Task | None = None
    _recorders: list[tuple[str, Path, object]] = field(default_factory=list)

    def shared(self) -> SharedConfig:
        port = int(self.provider.url.rsplit(":", 1)[1]) if self.provider else free_port()
        smtp = self.provider.smtp_port if self.provider else free_port()
        return SharedConfig(self.bootstrap, False, self.stack.tokens_file, self.stack.pii_key, port, smtp)

    def env(self, svc: Service, port: int, overrides: dict[str, str]) -> dict[str, str]:
        env = service_env(svc, self.urls[svc.name], self.shared()) | {f"{svc.env_prefix}HTTP_PORT": str(port)}
        return base_env() | env | overrides

    async def migrate(self, svc: Service) -> None:
        try:
            await migrate(svc, self.env(svc, free_port(), {}), repo_root())
        except MigrationFailed as error:
            raise NotMeasured(f"{svc.name} migrations failed: {str(error).splitlines()[-1]}") from None

    async def start(self, svc: Service, overrides: dict[str, str] | None = None) -> RunningService:
        """Start a migrated service and wait until its /readyz answers 200."""
        port = free_port()
        env = self.env(svc, port, overrides or {})
        argv = [sys.executable, "-m", "uvicorn", f"{svc.package}.main:app", "--host", "127.0.0.1", "--port", str(port)]
        log = self.stack.root / f"{svc.name}-{port}.log"
        child = Child(svc.name, argv, env, log, cwd=repo_root()).start()
        running = RunningService(svc, child, port)
        self.running.append(running)
        await _wait_ready(running)
        if self.profile_label is not None:
            folded = self.stack.root / f"profile-{svc.name}-{port}.folded"
            self._recorders.append((svc.name, folded, bench_profile.start(child.pid, folded)))
        if self._sampler is None:
            self._sampler = asyncio.create_task(self._sample(), name="bench-rss")
        return running

    async def _sample(self) -> None:
        while True:
            for running in self.running:
                running.sample_rss()
            await asyncio.sleep(0.25)

    def peak_rss_mb(self) -> dict[str, float]:
        for running in self.running:
            running.sample_rss()
        names = [r.service.name for r in self.running]
        numbered = [f"{name} #{names[:i].count(name) + 1}" if names.count(name) > 1 else name
                    for i, name in enumerate(names)]
        return {f"peak_rss_mb_{name}": r.peak_rss / 2**20 for name, r in zip(numbered, self.running)}

    async def stop(self) -> None:
        if self._sampler:
            self._sampler.cancel()
            await asyncio.gather(self._sampler, return_exceptions=True)
        for running in self.running:
            await asyncio.to_thread(running.child.stop, 20.0)
        for name, folded, recorder in self._recorders:
            await asyncio.to_thread(bench_profile.stop, recorder)
            if folded.exists():
                label = f"{self.profile_label}: {name}"
                label += f" #{sum(k.startswith(label) for k in self.profiles) + 1}" if label in self.profiles else ""
                self.profiles[label] = bench_profile.summarise(folded)
        if self.provider:
            await asyncio.to_thread(self.provider.child.stop, 5.0)


async def _wait_ready(running: RunningService) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if running.child.exit_code() is not None:
                raise NotMeasured(f"{running.service.name} exited at start-up: {_last_line(running.child)}")
            try:
                if (await client.get(f"{running.url}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise NotMeasured(f"{running.service.name} was not ready within {READY_TIMEOUT:.0f} s: {_last_line(running.child)}")


def _last_line(child: Child) -> str:
    lines = [line for line in child.log_tail(40).splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"
