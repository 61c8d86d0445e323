"""pytest fixtures on real servers: an embedded PostgreSQL per test session, a fresh Tansu broker per
test module, a migrated database per test, and bearer tokens. Loaded by the repository's conftest.py.

    async def test_something(service_database, kafka_bootstrap, admin_token):
        url = await service_database("ingestion")   # fresh database, roles, schemas, migrations
"""

import asyncio
import contextlib
import json
import shutil
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography.fernet import Fernet

from dunning_platform.auth import issue_token
from dunning_platform.devstack.bootstrap import bootstrap
from dunning_platform.devstack.broker import external_bootstrap, start_tansu
from dunning_platform.devstack.migrate import migrate
from dunning_platform.devstack.postgres import asyncpg_dsn, external_admin_url, start_embedded
from dunning_platform.devstack.processes import free_port
from dunning_platform.devstack.services import SERVICES, service
from dunning_platform.devstack.state import StateDir, repo_root, role_passwords


class DatabaseFactory:
    """Makes databases for tests. Each service's migrations run once per session into a template;
    every test database is then a copy of it, which takes milliseconds instead of seconds."""

    def __init__(self, admin_url: str, passwords: dict[str, str], tokens_file: Path) -> None:
        self.admin_url = admin_url
        self.passwords = passwords
        self.tokens_file = tokens_file
        self.created: list[str] = []
        self._templates: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def create(self, name: str, *, migrated: bool = True) -> str:
        """A new database with every role and schema; `name`'s migrations applied unless told not to.
        Returns that service's own URL (its role, search_path on its schema)."""
        svc = service(name)
        database = _unique_name(svc.schema)
        if migrated:
            template = await self._template(name)
            await self._execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
        self.created.append(database)
        urls = await bootstrap(self.admin_url, self.passwords, database=database)
        return urls[svc.name]

    async def urls(self, database_url: str) -> dict[str, str]:
        """Every service's URL on the database of `database_url`, to prove one role cannot reach another's schema."""
        from sqlalchemy.engine import make_url

        return await bootstrap(self.admin_url, self.passwords, database=make_url(database_url).database)

    async def drop(self, database: str) -> None:
        # FORCE: a test may leave pooled connections open; they must not keep its database alive.
        await self._execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    async def drop_all(self) -> None:
        for database in [*self.created, *self._templates.values()]:
            await self.drop(database)
        self.created.clear()
        self._templates.clear()

    async def _template(self, name: str) -> str:
        async with self._lock:
            if name not in self._templates:
                svc = service(name)
                database = _unique_name(f"template_{svc.schema}")
                urls = await bootstrap(self.admin_url, self.passwords, database=database)
                self._templates[name] = database
                env = {
                    f"{svc.env_prefix}DATABASE_URL": urls[svc.name],
                    f"{svc.env_prefix}TOKENS_FILE": str(self.tokens_file),
                }
                await migrate(svc, env, repo_root())
            return self._templates[name]

    async def _execute(self, statement: str) -> None:
        connection = await asyncpg.connect(asyncpg_dsn(self.admin_url))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()


def _unique_name(prefix: str) -> str:
    return f"test_{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def _test_postgres() -> Iterator[tuple[str, Path]]:
    """(admin URL, secrets file). The role passwords live beside the server they belong to."""
    external = external_admin_url()
    if external:
        yield external, StateDir.from_env().secrets_file
        return
    root = Path(tempfile.mkdtemp(prefix="dunning-pg-", dir="/tmp"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = start_embedded(root / "pg", durable=False)
    try:
        yield server.admin_url, root / "secrets.json"
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_admin_url(_test_postgres: tuple[str, Path]) -> str:
    return _test_postgres[0]


@pytest.fixture(scope="session")
def database_factory(_test_postgres: tuple[str, Path], tokens_file: Path) -> Iterator[DatabaseFactory]:
    """For fixtures wider than one test: `await database_factory.create("ingestion")`, dropped at session end."""
    admin_url, secrets_file = _test_postgres
    factory = DatabaseFactory(admin_url, role_passwords(secrets_file, [svc.role for svc in SERVICES]), tokens_file)
    yield factory
    asyncio.run(factory.drop_all())


@pytest.fixture
async def service_database(database_factory: DatabaseFactory):
    """`await service_database("ingestion")`: a fresh migrated database, dropped after the test."""
    mine: list[str] = []

    async def create(name: str, *, migrated: bool = True) -> str:
        url = await database_factory.create(name, migrated=migrated)
        mine.append(database_factory.created[-1])
        return url

    yield create
    for database in mine:
        await database_factory.drop(database)
        database_factory.created.remove(database)


@pytest.fixture(scope="module")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker of this test module's own (topics and groups start empty), or DUNNING_KAFKA_BOOTSTRAP."""
    external = external_bootstrap()
    if external:
        yield external
        return
    log_path = tmp_path_factory.mktemp("tansu") / "tansu.log"
    broker, port = _start_tansu_on_a_free_port(log_path)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        broker.stop(timeout=5)


def _start_tansu_on_a_free_port(log_path: Path, attempts: int = 5):
    # Another process may take the free port between the probe and the broker's bind; then try another.
    for attempt in range(attempts):
        port = free_port()
        try:
            return start_tansu(port, log_path), port
        except RuntimeError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def tokens_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("auth") / "tokens.json"


@pytest.fixture(scope="session")
def admin_token(tokens_file: Path) -> str:
    return issue_token(tokens_file, name="test admin", scopes=["admin"])


@pytest.fixture(scope="session")
def make_token(tokens_file: Path) -> Callable[..., str]:
    """`make_token("cases:read", lender="acme")` returns the plaintext of a new token with those scopes."""

    def issue(*scopes: str, lender: str | None = None) -> str:
        name = f"test {' '.join(scopes) or 'no scopes'}"
        return issue_token(tokens_file, name=name, scopes=list(scopes), lender=lender)

    return issue


@pytest.fixture(scope="session")
def pii_key() -> str:
    return Fernet.generate_key().decode()


def wait_for(
    condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2, what: str = "condition"
) -> Any:
    """Poll `condition` until it returns something truthy and return that; fail after `timeout` seconds.
    Asynchronous effects (a consumer group forming, an outbox relay) are awaited, not slept through."""
    deadline = time.monotonic() + timeout
    while True:
        # A service restarting refuses connections for a moment: that is "not yet", not a failure.
        with contextlib.suppress(httpx.TransportError, ConnectionError):
            result = condition()
            if result:
                return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


async def async_wait_for(
    condition: Callable[[], Awaitable[Any]], timeout: float = 30.0, interval: float = 0.1, what: str = "condition"
) -> Any:
    """The same for async conditions (a query, an HTTP call through an async client)."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.TransportError, ConnectionError):
            result = await condition()
            if result:
                return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(interval)


class BusWatcher:
    """Everything published on the platform's topics, collected in the background by a Kafka client
    the services themselves do not use."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        from confluent_kafka import Consumer, Producer

        self._producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": False})
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"system-test-{uuid.uuid4().hex[:8]}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        self._seen: list[dict] = []
        self._lock = threading.Lock()
        self._assigned = threading.Event()
        self._stopping = threading.Event()
        self._consumer.subscribe(topics, on_assign=lambda consumer, partitions: self._assigned.set())
        self._thread = threading.Thread(target=self._collect, name="bus-watcher", daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        while not self._stopping.is_set():
            message = self._consumer.poll(0.1)
            if message is None or message.error():
                continue
            key = (message.key() or b"").decode(errors="replace")
            try:
                event = json.loads(message.value())
            except ValueError:  # a poison message sent on purpose; kept, so a DLQ test can find it
                event = {"raw": message.value().decode(errors="replace")}
            record = {"topic": message.topic(), "key": key, "event": event}
            with self._lock:
                self._seen.append(record)

    def wait_until_assigned(self, timeout: float = 30) -> None:
        # A new consumer group needs a few seconds on Tansu before it is given its partitions.
        if not self._assigned.wait(timeout):
            pytest.fail(f"the test consumer got no partitions within {timeout} s")

    def publish(self, topic: str, event: dict) -> None:
        self._producer.produce(topic, key=event["subject"].encode(), value=json.dumps(event).encode())
        assert self._producer.flush(10) == 0, "the broker did not take the event"

    def events(self, topic: str | None = None, type: str | None = None, loan_id: str | None = None) -> list[dict]:
        """Matching events, each once: a relay may publish an event again after a crash (same source and id)."""
        with self._lock:
            records = list(self._seen)
        unique: dict[tuple[str, str], dict] = {}
        for record in records:
            event = record["event"]
            if topic and record["topic"] != topic:
                continue
            if type and event.get("type") != type:
                continue
            if loan_id and (event.get("data") or {}).get("loan_id") != loan_id:
                continue
            unique.setdefault((event.get("source"), event.get("id")), event)
        return list(unique.values())

    def wait_for(self, timeout: float = 45, **match) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events(**match)
            if found:
                return found[0]
            time.sleep(0.1)
        pytest.fail(f"no event matching {match} within {timeout} s")

    def close(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._thread.join(5)
        self._consumer.close()
        self._producer.flush(5)
        self._producer = None  # librdkafka keeps reconnecting until the client is freed
