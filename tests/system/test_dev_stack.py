"""The supervisor behind `make run`, on stand-in services so that it is tested on its own: it starts
PostgreSQL, the broker, migrations and services, announces them, restarts the one that dies, reuses its
state on a second run and leaves nothing running after Ctrl-C."""

import hashlib
import json
import os
import shutil
import signal
import socket
import stat
import textwrap
from pathlib import Path

import httpx
import pytest

from dunning_platform.devstack.harness import new_platform, scratch_dir
from dunning_platform.devstack.services import SERVICES
from dunning_platform.testing import wait_for

STAND_IN_APP = '''
import os
import asyncpg
from fastapi import FastAPI
from dunning_platform.devstack.postgres import asyncpg_dsn

app = FastAPI()
URL = asyncpg_dsn(os.environ["{prefix}DATABASE_URL"])


async def query(sql):
    connection = await asyncpg.connect(URL)
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


@app.get("/readyz")
async def readyz():
    return {{"things": await query("SELECT count(*) FROM things"), "broker": os.environ["{prefix}KAFKA_BOOTSTRAP"]}}


@app.post("/things")
async def add_thing():
    await query("INSERT INTO things VALUES (1) RETURNING id")
'''

MIGRATION = '''
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.execute("CREATE TABLE things (id int)")
'''


@pytest.fixture(scope="module")
def stand_in_repo(tmp_path_factory) -> Path:
    """A checkout whose four services each have one migration and an app that reads its own table."""
    root = tmp_path_factory.mktemp("stand-in")
    for svc in SERVICES:
        service_dir = root / "repo" / "services" / svc.dir
        (service_dir / "migrations" / "versions").mkdir(parents=True)
        (service_dir / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
        (service_dir / "migrations" / "env.py").write_text(
            "from sqlalchemy import MetaData\nfrom dunning_platform.migrations import run_alembic_env\n"
            f"run_alembic_env(MetaData(schema={svc.schema!r}), {svc.schema!r}, '{svc.env_prefix}DATABASE_URL')\n"
        )
        (service_dir / "migrations" / "versions" / "0001_things.py").write_text(textwrap.dedent(MIGRATION))
        package = root / "packages" / svc.package
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "main.py").write_text(STAND_IN_APP.format(prefix=svc.env_prefix))
    (root / "repo" / "libs").mkdir()
    return root


@pytest.fixture(scope="module")
def stand_in_env(stand_in_repo) -> dict[str, str]:
    # The stand-in packages come first on the path and so replace the real ones in the service processes.
    return {"DUNNING_REPO_ROOT": str(stand_in_repo / "repo"), "PYTHONPATH": str(stand_in_repo / "packages")}


@pytest.fixture(scope="module")
def stand_in_platform(stand_in_env):
    """One platform for the module: the tests below read it, kill parts of it and finally stop it."""
    root = scratch_dir()
    platform = new_platform(root, stand_in_env)
    platform.start()
    try:
        platform.wait_until_ready()
        yield platform
    finally:
        platform.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_it_announces_every_service_with_its_address_and_the_admin_token(stand_in_platform):
    for svc in SERVICES:
        assert f"{svc.name} ready on http://127.0.0.1:{stand_in_platform.ports[svc.name]}" in stand_in_platform.output
        readiness = httpx.get(stand_in_platform.url(svc.name) + "/readyz").json()
        assert readiness["broker"] == stand_in_platform.broker
    assert f"admin token: {stand_in_platform.state_dir / 'admin.token'}" in stand_in_platform.output
    assert len(stand_in_platform.pids) >= 7, "four services, provider, broker and PostgreSQL"


def test_its_secrets_are_private_and_the_admin_token_is_stored_hashed(stand_in_platform):
    state = stand_in_platform.state_dir
    for name in ("admin.token", "secrets.json", "tokens.json", "pii.key"):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600, name
    tokens = json.loads((state / "tokens.json").read_text())["tokens"]
    digest = hashlib.sha256(stand_in_platform.admin_token.encode()).hexdigest()
    assert [entry["scopes"] for entry in tokens if entry["sha256"] == digest] == [["admin"]]
    assert stand_in_platform.admin_token not in (state / "tokens.json").read_text()


def test_a_service_that_dies_is_started_again(stand_in_platform):
    killed = stand_in_platform.pid_of("dunning-scheduler")

    os.kill(killed, signal.SIGKILL)

    wait_for(lambda: "dunning-scheduler exited with code -9" in stand_in_platform.output, what="the exit")
    wait_for(lambda: stand_in_platform.output.count("dunning-scheduler ready on") == 2, what="the restart")
    assert stand_in_platform.pid_of("dunning-scheduler") != killed
    stand_in_platform.pids |= stand_in_platform.process_tree()


def test_ctrl_c_stops_everything_it_started(stand_in_platform):
    httpx.post(stand_in_platform.url("ingestion") + "/things").raise_for_status()

    assert stand_in_platform.stop(signal.SIGINT) == 0

    assert stand_in_platform.leftovers() == []
    assert stand_in_platform.output.rstrip().endswith("stopped")


def test_a_second_run_reuses_the_state_dir(stand_in_platform, stand_in_env, platform_factory):
    state = stand_in_platform.state_dir
    token, passwords = stand_in_platform.admin_token, (state / "secrets.json").read_text()

    second = platform_factory(stand_in_env, root=state.parent).start()
    second.wait_until_ready()

    assert httpx.get(second.url("ingestion") + "/readyz").json()["things"] == 1, "the row of the first run"
    assert second.admin_token == token
    assert (state / "secrets.json").read_text() == passwords
    assert second.stop(signal.SIGTERM) == 0
    assert second.leftovers() == []


def test_a_killed_supervisor_takes_its_services_along_and_the_next_run_recovers(stand_in_env, platform_factory):
    crashed = platform_factory(stand_in_env).start()
    crashed.wait_until_ready()
    postmaster = int((crashed.state_dir / "pg" / "postmaster.pid").read_text().split()[0])

    crashed.process.kill()
    crashed.process.wait()

    # PostgreSQL runs on (it is a daemon of its own and the next run attaches to it); nothing else does.
    wait_for(lambda: crashed.leftovers() == [leftover_of(crashed, postmaster)], what="the children to exit")
    recovered = platform_factory(stand_in_env, root=crashed.state_dir.parent).start()
    recovered.wait_until_ready()
    assert recovered.stop() == 0
    assert recovered.leftovers() == [] and crashed.leftovers() == []


def leftover_of(platform, pid: int) -> str:
    return next((line for line in platform.leftovers() if line.startswith(f"{pid} ")), "")


def test_a_port_in_use_is_named_instead_of_shared(platform_factory, stand_in_env):
    platform = platform_factory(stand_in_env)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", platform.ports["broker"]))
        squatter.listen()
        platform.start()
        assert platform.process.wait(30) == 1
    assert "DUNNING_BROKER_PORT" in platform.output
