"""The environment each service process gets: its own database URL and the shared broker, tokens, key."""

import os
from dataclasses import dataclass
from pathlib import Path

from dunning_platform.devstack.services import PROVIDER_PORT, PROVIDER_SMTP_PORT, Service


@dataclass(frozen=True)
class SharedConfig:
    kafka_bootstrap: str
    kafka_idempotence: bool
    tokens_file: Path
    pii_key: str
    provider_port: int
    provider_smtp_port: int
    receipt_secret: str | None = None


def http_port(svc: Service) -> int:
    return int(os.environ.get(f"{svc.env_prefix}HTTP_PORT") or svc.port)


def provider_ports() -> tuple[int, int]:
    port = int(os.environ.get("DUNNING_PROVIDER_PORT") or PROVIDER_PORT)
    smtp = int(os.environ.get("DUNNING_PROVIDER_SMTP_PORT") or PROVIDER_SMTP_PORT)
    return port, smtp


def service_env(svc: Service, database_url: str, shared: SharedConfig) -> dict[str, str]:
    prefix = svc.env_prefix
    env = {
        f"{prefix}DATABASE_URL": database_url,
        f"{prefix}KAFKA_BOOTSTRAP": shared.kafka_bootstrap,
        f"{prefix}KAFKA_IDEMPOTENCE": str(shared.kafka_idempotence).lower(),
        f"{prefix}TOKENS_FILE": str(shared.tokens_file),
        f"{prefix}PII_KEY": shared.pii_key,
        f"{prefix}HTTP_PORT": str(http_port(svc)),
    }
    if svc.name == "notification":
        env |= {
            "NOTIFICATION_PROVIDER_URL": f"http://127.0.0.1:{shared.provider_port}",
            "NOTIFICATION_SMTP_HOST": "127.0.0.1",
            "NOTIFICATION_SMTP_PORT": str(shared.provider_smtp_port),
        }
    if svc.name == "notification" and shared.receipt_secret:
        # Delivery receipts: the provider signs them and posts them back to notification.
        env |= {
            "NOTIFICATION_RECEIPT_SECRET": shared.receipt_secret,
            "NOTIFICATION_PUBLIC_URL": f"http://127.0.0.1:{http_port(svc)}",
        }
    return env
