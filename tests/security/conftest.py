"""The fixtures of the security tests: one whole platform, started as processes for the package, with a
low rate limit on legal-referral and a small body limit on the scheduler so that both limits can be reached
cheaply; tokens issued into its tokens file; and a Kafka client watching its bus."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from dunning_platform.auth import SCOPES, issue_token, revoke_token
from dunning_platform.devstack.harness import Platform
from dunning_platform.testing import BusWatcher
from tests.outside import TOPICS, started_platform

# legal-referral: one request a second per token, five at once. The scheduler: bodies up to 64 KiB.
RATE_LIMITED_SERVICE = "legal-referral"
RATE_LIMIT_BURST = 5
SIZE_LIMITED_SERVICE = "dunning-scheduler"
SCHEDULER_MAX_REQUEST_BYTES = 64 * 1024
PLATFORM_ENV = {
    "LEGAL_RATE_LIMIT_PER_SECOND": "1",
    "LEGAL_RATE_LIMIT_BURST": str(RATE_LIMIT_BURST),
    "SCHEDULER_MAX_REQUEST_BYTES": str(SCHEDULER_MAX_REQUEST_BYTES),
}


@dataclass(frozen=True)
class Token:
    plaintext: str
    id: str
    scopes: tuple[str, ...]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.plaintext}"}


class Tokens:
    """Tokens in the running platform's tokens file; the services reload it when it changes."""

    def __init__(self, tokens_file: Path) -> None:
        self.file = tokens_file

    def issue(self, *scopes: str, name: str = "security test") -> Token:
        plaintext = issue_token(self.file, name=name, scopes=list(scopes))
        digest = hashlib.sha256(plaintext.encode()).hexdigest()
        [entry] = [e for e in json.loads(self.file.read_text())["tokens"] if e["sha256"] == digest]
        return Token(plaintext, entry["id"], tuple(scopes))

    def without(self, *excluded: str) -> Token:
        """A token with every scope but `excluded` (and never admin, which passes everything)."""
        return self.issue(*[s for s in SCOPES if s not in excluded and s != "admin"])

    def revoke(self, token: Token) -> None:
        revoke_token(self.file, token.id)


@pytest.fixture(scope="package")
def platform(request) -> Platform:
    """The real platform for the whole package, with the low limits above."""
    with started_platform(request, PLATFORM_ENV) as running:
        yield running


@pytest.fixture(scope="package")
def tokens(platform: Platform) -> Tokens:
    return Tokens(platform.state_dir / "tokens.json")


@pytest.fixture(scope="package")
def bus(platform: Platform):
    watcher = BusWatcher(platform.broker, TOPICS + [f"{topic}.dlq" for topic in TOPICS])
    watcher.wait_until_assigned()
    yield watcher
    watcher.close()
