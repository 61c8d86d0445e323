"""The embedded stack of one benchmark run, built from the dev stack's own pieces: one PostgreSQL server,
a fresh database (roles, schemas, migrations) and a fresh Tansu broker for each measurement, so no
measurement sees another's rows, topics or committed offsets."""

import asyncio
import secrets
import shutil
import tempfile
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from cryptography.fernet import Fernet

from dunning_platform.auth import issue_token
from dunning_platform.devstack.bootstrap import bootstrap
from dunning_platform.devstack.broker import start_tansu
from dunning_platform.devstack.postgres import EmbeddedPostgres, asyncpg_dsn, on_database, start_embedded
from dunning_platform.devstack.processes import Child, free_port
from dunning_platform.devstack.services import SERVICES


STATEMENT_SETTINGS = {"pg_stat_statements.track": "all"}
# auto_explain: the plan of each slower statement, as executed (rows, buffers), nested ones too.
EXPLAIN_SETTINGS = {"auto_explain.log_analyze": "on", "auto_explain.log_buffers": "on", "auto_explain.log_nested_statements": "on"}
_TOP_STATEMENTS = """
    SELECT s.total_exec_time AS ms, s.calls, s.rows, r.rolname AS role,
           regexp_replace(s.query, '\\s+', ' ', 'g') AS query,
           sum(s.total_exec_time) OVER () AS all_ms
    FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
    WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = $1)
    ORDER BY s.total_exec_time DESC LIMIT $2
"""


@dataclass(frozen=True)
class Statement:
    share: float  # of the time PostgreSQL spent executing the database's statements, lock waits included
    calls: int
    rows: int
    mean_ms: float
    role: str
    query: str  # normalised: constants shown as $n


@dataclass
class BenchStack:
    root: Path
    postgres: EmbeddedPostgres
    passwords: dict[str, str]
    tokens_file: Path
    admin_token: str
    pii_key: str
    brokers: list[Child] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, *, durable: bool, statements: bool = False, explain_ms: int | None = None) -> "BenchStack":
        """`statements`: the server keeps pg_stat_statements (every statement, nested ones too);
        `explain_ms`: it logs the plan of every statement slower than that (auto_explain)."""
        root = Path(tempfile.mkdtemp(prefix="dunning-bench-", dir="/tmp"))
        extra = server_settings(statements, explain_ms)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            postgres = start_embedded(root / "pg", durable=durable, extra_settings=extra)
        tokens_file = root / "tokens.json"
        token = issue_token(tokens_file, name="bench admin", scopes=["admin"])
        passwords = {svc.role: secrets.token_urlsafe(18) for svc in SERVICES}
        return cls(root, postgres, passwords, tokens_file, token, Fernet.generate_key().decode())

    @property
    def admin_url(self) -> str:
        return self.postgres.admin_url

    def start_broker(self) -> str:
        """A new, empty broker; returns its bootstrap address."""
        for attempt in range(5):
            port = free_port()
            try:
                self.brokers.append(start_tansu(port, self.root / f"tansu-{port}.log"))
                return f"127.0.0.1:{port}"
            except RuntimeError:
                # Another process took the port between the probe and the bind.
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def stop_broker(self, bootstrap_servers: str) -> None:
        port = int(bootstrap_servers.rsplit(":", 1)[1])
        for broker in [b for b in self.brokers if b.log_path.name == f"tansu-{port}.log"]:
            broker.stop(timeout=5)
            self.brokers.remove(broker)

    async def create_database(self) -> tuple[str, dict[str, str]]:
        """A new database with every service's role and schema; (its name, each service's own URL)."""
        database = f"bench_{uuid.uuid4().hex[:10]}"
        urls = await bootstrap(self.admin_url, self.passwords, database=database)
        self.databases.append(database)
        return database, urls

    async def connect(self, database: str = "postgres") -> asyncpg.Connection:
        """An admin connection: it reads every schema, as the benchmark's counters need."""
        return await asyncpg.connect(asyncpg_dsn(on_database(self.admin_url, database)))

    async def drop_database(self, database: str) -> None:
        connection = await self.connect()
        try:
            # FORCE: a killed service may leave connections behind.
            await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await connection.close()
        self.databases.remove(database)

    async def forget_statements(self, database: str) -> None:
        """Start counting the database's statements afresh (after its migrations, say)."""
        connection = await self.connect()
        try:
            await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            await connection.execute("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = $1), 0)", database)
        finally:
            await connection.close()

    async def top_statements(self, database: str, limit: int = 12) -> list[Statement]:
        """The database's statements by total execution time, from a server started with `statements`."""
        connection = await self.connect()
        try:
            await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            rows = await connection.fetch(_TOP_STATEMENTS, database, limit)
        finally:
            await connection.close()
        return [Statement(r["ms"] / r["all_ms"] if r["all_ms"] else 0.0, r["calls"], r["rows"], r["ms"] / max(r["calls"], 1),
                          r["role"], r["query"]) for r in rows]

    async def server_version(self) -> str:
        connection = await self.connect()
        try:
            return await connection.fetchval("SHOW server_version")
        finally:
            await connection.close()

    def stop(self, *, keep_logs: bool = False) -> None:
        for database in list(self.databases):
            try:
                asyncio.run(self.drop_database(database))
            except Exception:  # noqa: BLE001 - the server and its data folder go away next anyway
                pass
        for broker in self.brokers:
            broker.stop(timeout=5)
        self.postgres.stop()
        if keep_logs:
            server_log = self.root / "pg" / "log"
            if server_log.exists():
                shutil.move(server_log, self.root / "postgres.log")
            shutil.rmtree(self.root / "pg", ignore_errors=True)
            print(f"logs of the services, the provider and the brokers: {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def server_settings(statements: bool, explain_ms: int | None) -> dict[str, str]:
    libraries, settings = [], {}
    if statements:
        libraries.append("pg_stat_statements")
        settings |= STATEMENT_SETTINGS
    if explain_ms is not None:
        libraries.append("auto_explain")
        settings |= EXPLAIN_SETTINGS | {"auto_explain.log_min_duration": f"{explain_ms}ms"}
    return settings | ({"shared_preload_libraries": ",".join(libraries)} if libraries else {})
