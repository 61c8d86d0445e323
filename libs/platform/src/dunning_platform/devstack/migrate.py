"""Each service's Alembic migrations, run as a subprocess as the service's own role."""

import asyncio
import subprocess
import sys
from pathlib import Path

from dunning_platform.devstack.processes import base_env
from dunning_platform.devstack.services import Service


class MigrationFailed(RuntimeError):
    pass


def alembic_command(svc: Service, repo_root: Path) -> tuple[list[str], Path]:
    """The command and its working directory; alembic.ini may name its scripts relative to either."""
    directory = svc.path(repo_root)
    if not (directory / "alembic.ini").exists():
        raise MigrationFailed(f"{svc.name} has no alembic.ini in {directory}")
    return [sys.executable, "-m", "alembic", "-c", "alembic.ini", "upgrade", "head"], directory


def migrate_all(runs: list[tuple[Service, dict[str, str]]], repo_root: Path, timeout: float = 120.0) -> None:
    """Upgrade every service to head, all at once: their schemas do not touch each other."""
    started = []
    for svc, env in runs:
        argv, cwd = alembic_command(svc, repo_root)
        process = subprocess.Popen(
            argv, cwd=cwd, env=base_env() | env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append((svc, process))
    try:
        for svc, process in started:
            output, _ = process.communicate(timeout=timeout)
            if process.returncode != 0:
                raise MigrationFailed(f"migrations of {svc.name} failed:\n{output.decode(errors='replace')}")
    finally:
        for _, process in started:
            if process.poll() is None:
                process.kill()
                process.wait()


async def migrate(svc: Service, env: dict[str, str], repo_root: Path, timeout: float = 120.0) -> None:
    """The same for one service, from async code (tests)."""
    argv, cwd = alembic_command(svc, repo_root)
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=base_env() | env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise MigrationFailed(f"migrations of {svc.name} took longer than {timeout:.0f} s") from None
    if process.returncode != 0:
        raise MigrationFailed(f"migrations of {svc.name} failed:\n{output.decode(errors='replace')}")
