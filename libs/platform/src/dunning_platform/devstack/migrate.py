"""Each service's Alembic migrations, run in a subprocess as the service's own role.

One subprocess upgrades every service in turn (`python -m dunning_platform.devstack.migrate NAME...`):
starting Python and importing SQLAlchemy and Alembic once instead of four times saves most of the time
migrations take on a busy machine. Each still runs with its own alembic.ini and its own role's URL."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from dunning_platform.devstack.processes import base_env
from dunning_platform.devstack.services import Service, service
from dunning_platform.devstack.state import repo_root


class MigrationFailed(RuntimeError):
    pass


def _command(services: list[Service]) -> list[str]:
    return [sys.executable, "-m", "dunning_platform.devstack.migrate", *(svc.name for svc in services)]


def migrate_all(runs: list[tuple[Service, dict[str, str]]], root: Path, timeout: float = 300.0) -> None:
    """Upgrade every service to head. `runs` pairs each service with its environment (its URL)."""
    env = base_env() | {"DUNNING_REPO_ROOT": str(root)}
    for _, service_env in runs:
        env |= service_env
    process = subprocess.Popen(
        _command([svc for svc, _ in runs]), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode != 0:
        raise MigrationFailed(output.decode(errors="replace"))


async def migrate(svc: Service, env: dict[str, str], root: Path, timeout: float = 300.0) -> None:
    """The same for one service, from async code (tests)."""
    process = await asyncio.create_subprocess_exec(
        *_command([svc]), env=base_env() | {"DUNNING_REPO_ROOT": str(root)} | env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise MigrationFailed(f"migrations of {svc.name} took longer than {timeout:.0f} s") from None
    if process.returncode != 0:
        raise MigrationFailed(output.decode(errors="replace"))


def upgrade(svc: Service, root: Path) -> None:
    """`alembic -c services/<dir>/alembic.ini upgrade head`, from the service's directory, because an
    alembic.ini may name its scripts relative to either."""
    from alembic import command
    from alembic.config import Config

    directory = svc.path(root)
    if not (directory / "alembic.ini").exists():
        raise MigrationFailed(f"{svc.name} has no alembic.ini in {directory}")
    previous = Path.cwd()
    os.chdir(directory)
    try:
        command.upgrade(Config(str(directory / "alembic.ini")), "head")
    finally:
        os.chdir(previous)


def main(names: list[str]) -> int:
    root = repo_root()
    for name in names:
        svc = service(name)
        try:
            upgrade(svc, root)
        except Exception as error:  # noqa: BLE001 - name the service whose migration failed, then fail
            print(f"migrations of {svc.name} failed: {error!r}", file=sys.stderr, flush=True)
            raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
