"""`make run`: the whole platform in the foreground. Starts PostgreSQL, the broker, the schemas and
migrations, the dev provider and the four services; restarts a service that dies; stops all of it, in
reverse order, on Ctrl-C or SIGTERM."""

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass, field

import httpx

from dunning_platform.devstack.bootstrap import bootstrap
from dunning_platform.devstack.broker import external_bootstrap, start_tansu
from dunning_platform.devstack.environment import SharedConfig, http_port, provider_ports, service_env
from dunning_platform.devstack.migrate import migrate_all
from dunning_platform.devstack.postgres import EmbeddedPostgres, external_admin_url, start_embedded
from dunning_platform.devstack.processes import Child, base_env, port_in_use, stop_all, wait_for_port
from dunning_platform.devstack.services import BROKER_PORT, SERVICES, Service
from dunning_platform.devstack.state import StateDir, admin_token, pii_key, receipt_secret, repo_root, role_passwords

READY_BAR_SECONDS = 90
# A service that dies this soon after starting, this many times in a row, is broken, not unlucky.
CRASH_WINDOW_SECONDS = 30
CRASH_LIMIT = 5


class Shutdown(Exception):
    """Raised in the main thread by SIGINT/SIGTERM/SIGHUP, wherever the supervisor is waiting."""


def say(line: str) -> None:
    print(line, flush=True)


@dataclass
class Running:
    service: Service
    child: Child
    port: int
    ready: bool = False
    quick_crashes: int = 0


@dataclass
class Stack:
    state: StateDir
    services: tuple[Service, ...]
    postgres: EmbeddedPostgres | None = None
    tansu: Child | None = None
    provider: Child | None = None
    running: list[Running] = field(default_factory=list)
    started_at: float = field(default_factory=time.monotonic)
    announced: bool = False
    warned_slow: bool = False

    def start(self) -> None:
        self._check_ports()
        admin_url = self._start_postgres()
        shared = self._shared_config(*self._start_broker())
        urls = self._prepare_database(admin_url)
        envs = {svc.name: service_env(svc, urls[svc.name], shared) for svc in self.services}
        self._start_provider(shared)
        say("running migrations")
        migrate_all([(svc, envs[svc.name]) for svc in self.services], repo_root())
        self._wait_for_provider(shared)
        for svc in self.services:
            self.running.append(self._spawn(svc, envs[svc.name]))

    def _check_ports(self) -> None:
        wanted = {f"{svc.env_prefix}HTTP_PORT": http_port(svc) for svc in self.services}
        wanted |= dict(zip(("DUNNING_PROVIDER_PORT", "DUNNING_PROVIDER_SMTP_PORT"), provider_ports()))
        if not external_bootstrap():
            wanted["DUNNING_BROKER_PORT"] = broker_port()
        taken = [f"{port} ({variable})" for variable, port in wanted.items() if port_in_use(port)]
        if taken:
            raise RuntimeError(f"ports already in use: {', '.join(taken)}; set those variables to free ports")

    def _start_postgres(self) -> str:
        external = external_admin_url()
        if external:
            say("PostgreSQL: using DUNNING_DATABASE_URL")
            return external
        self.postgres = start_embedded(self.state.pgdata)
        say(f"PostgreSQL ready (data in {self.state.pgdata})")
        return self.postgres.admin_url

    def _start_broker(self) -> tuple[str, bool]:
        external = external_bootstrap()
        if external:
            say(f"Kafka: using {external}")
            return external, os.environ.get("DUNNING_KAFKA_IDEMPOTENCE", "true").lower() == "true"
        port = broker_port()
        self.tansu = start_tansu(port, self.state.logs / "tansu.log")
        say(f"broker ready on 127.0.0.1:{port} (Tansu, in memory)")
        return f"127.0.0.1:{port}", False

    def _shared_config(self, bootstrap_servers: str, idempotence: bool) -> SharedConfig:
        admin_token(self.state)  # issued on the first start, into the tokens file every service reads
        port, smtp_port = provider_ports()
        return SharedConfig(
            kafka_bootstrap=bootstrap_servers,
            kafka_idempotence=idempotence,
            tokens_file=self.state.tokens_file,
            pii_key=pii_key(self.state.pii_key_file),
            provider_port=port,
            provider_smtp_port=smtp_port,
            receipt_secret=receipt_secret(self.state.receipt_secret_file),
        )

    def _prepare_database(self, admin_url: str) -> dict[str, str]:
        passwords = role_passwords(self.state.secrets_file, [svc.role for svc in SERVICES])
        return asyncio.run(bootstrap(admin_url, passwords))

    def _start_provider(self, shared: SharedConfig) -> None:
        argv = [
            sys.executable, "-m", "dunning_platform.devstack.provider", "--host", "127.0.0.1",
            "--port", str(shared.provider_port), "--smtp-port", str(shared.provider_smtp_port),
        ]
        # Started before the migrations run, so that the two start-ups overlap.
        env = base_env() | {"DUNNING_PROVIDER_RECEIPT_SECRET": shared.receipt_secret}
        self.provider = Child("provider", argv, env, self.state.logs / "provider.log").start()

    def _wait_for_provider(self, shared: SharedConfig) -> None:
        wait_for_port(self.provider, shared.provider_port, timeout=60)
        say(f"dev provider ready on http://127.0.0.1:{shared.provider_port}")

    def _spawn(self, svc: Service, env: dict[str, str]) -> Running:
        port = http_port(svc)
        argv = [sys.executable, "-m", "uvicorn", f"{svc.package}.main:app", "--host", "127.0.0.1", "--port", str(port)]
        child = Child(svc.name, argv, base_env() | env, self.state.logs / f"{svc.name}.log").start()
        return Running(svc, child, port)

    def watch(self) -> None:
        """Announce each service when ready; restart one that dies. Returns only by Shutdown or failure."""
        with httpx.Client(timeout=1.0) as client:
            while True:
                for entry in self.running:
                    self._check(entry, client)
                self._report_progress()
                time.sleep(1.0 if self.announced else 0.2)

    def _report_progress(self) -> None:
        if self.announced:
            return
        if all(entry.ready for entry in self.running):
            self.announced = True
            say(f"all services ready in {time.monotonic() - self.started_at:.1f} s")
            say(f"admin token: {self.state.admin_token_file}")
            say(f"logs: {self.state.logs}; press Ctrl-C to stop")
        elif not self.warned_slow and time.monotonic() - self.started_at > READY_BAR_SECONDS:
            self.warned_slow = True
            waiting = [entry.service.name for entry in self.running if not entry.ready]
            say(f"still waiting for {', '.join(waiting)}; see their logs in {self.state.logs}")

    def _check(self, entry: Running, client: httpx.Client) -> None:
        code = entry.child.exit_code()
        if code is not None:
            self._restart(entry, code)
        elif not entry.ready and _is_ready(client, entry.port):
            entry.ready = True
            say(f"{entry.service.name} ready on http://127.0.0.1:{entry.port}")

    def _restart(self, entry: Running, code: int) -> None:
        quick = time.monotonic() - entry.child.started_at < CRASH_WINDOW_SECONDS
        entry.quick_crashes = entry.quick_crashes + 1 if quick else 0
        if entry.quick_crashes >= CRASH_LIMIT:
            raise RuntimeError(f"{entry.service.name} keeps exiting (code {code}):\n{entry.child.log_tail()}")
        say(f"{entry.service.name} exited with code {code}; restarting (log: {entry.child.log_path})")
        if entry.quick_crashes > 1:
            time.sleep(min(2.0 ** entry.quick_crashes, 10.0))
        entry.child.process = None
        entry.child.start()
        entry.ready = False

    def stop(self) -> None:
        """Services first (they drain and commit), then what they use; a failing step does not stop the rest."""
        steps = [lambda: stop_all([entry.child for entry in self.running])]
        steps += [child.stop for child in (self.provider, self.tansu) if child is not None]
        steps += [self.postgres.stop] if self.postgres is not None else []
        for step in steps:
            try:
                step()
            except Exception as error:  # noqa: BLE001 - report it and go on stopping the others
                say(f"while stopping: {error!r}")


def _is_ready(client: httpx.Client, port: int) -> bool:
    try:
        return client.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
    except httpx.HTTPError:
        return False


def broker_port() -> int:
    return int(os.environ.get("DUNNING_BROKER_PORT") or BROKER_PORT)


def _raise_shutdown(signum, _frame) -> None:
    raise Shutdown(signal.Signals(signum).name)


def run(services: tuple[Service, ...] = SERVICES) -> int:
    state = StateDir.from_env()
    state.create()
    stack = Stack(state, services)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_shutdown)
    code = 0
    try:
        stack.start()
        stack.watch()
    except Shutdown as stop:
        say(f"{stop}: stopping")
    except Exception as error:  # noqa: BLE001 - report why, then still stop everything that started
        say(f"error: {error}")
        code = 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        stack.stop()
        say("stopped")
    return code
