"""The four services and their names: the one table the dev stack, the tests and the supervisor read."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Service:
    name: str
    dir: str
    package: str
    schema: str
    role: str
    env_prefix: str
    port: int

    def path(self, repo_root: Path) -> Path:
        return repo_root / "services" / self.dir


SERVICES: tuple[Service, ...] = (
    Service("ingestion", "ingestion", "dunning_ingestion", "ingestion", "ingestion_svc", "INGESTION_", 8001),
    Service(
        "dunning-scheduler", "dunning-scheduler", "dunning_scheduler", "scheduler", "scheduler_svc", "SCHEDULER_", 8002
    ),
    Service(
        "notification", "notification", "dunning_notification", "notification", "notification_svc",
        "NOTIFICATION_", 8003,
    ),
    Service("legal-referral", "legal-referral", "dunning_legal", "legal", "legal_svc", "LEGAL_", 8004),
)

PROVIDER_PORT = 8009
PROVIDER_SMTP_PORT = 8025
BROKER_PORT = 9092


def service(name: str) -> Service:
    """Look a service up by its name, its directory or its schema ("scheduler" finds dunning-scheduler)."""
    for candidate in SERVICES:
        if name in (candidate.name, candidate.dir, candidate.schema, candidate.package):
            return candidate
    raise KeyError(f"no service named {name!r}; known: {[s.name for s in SERVICES]}")
