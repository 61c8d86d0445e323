"""Bearer tokens with scopes. Only a token's SHA-256 is stored; the file is reloaded when it changes,
so rotation and revocation need no restart."""

import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

SCOPES = ("events:write", "cases:read", "cases:write", "policy:write", "legal:write", "admin")


@dataclass(frozen=True)
class Principal:
    token_id: str
    scopes: frozenset[str]
    lender: str | None = None

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


class Unauthorized(Exception):
    status = 401


class Forbidden(Exception):
    status = 403


class RateLimited(Exception):
    status = 429

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many requests for this token; retry in {retry_after:.1f} s")
        self.retry_after = retry_after


class TokenBuckets:
    """Requests per token: `rate` per second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int, now=time.monotonic) -> None:
        self._rate, self._burst, self._now = rate, burst, now
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, token_id: str) -> None:
        now = self._now()
        tokens, last = self._buckets.get(token_id, (float(self._burst), now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens < 1:
            raise RateLimited((1 - tokens) / self._rate)
        self._buckets[token_id] = (tokens - 1, now)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _read(path: Path) -> dict:
    if not path.exists():
        return {"tokens": []}
    return json.loads(path.read_text())


def _write(path: Path, content: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(content, indent=2))
    os.chmod(temporary, 0o600)
    temporary.replace(path)


def issue_token(tokens_file: Path, *, name: str, scopes: list[str], lender: str | None = None) -> str:
    """Add a token to the file and return its plaintext, which is never stored."""
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes: {sorted(unknown)}")
    token = "dun_" + secrets.token_urlsafe(32)
    content = _read(tokens_file)
    content["tokens"].append(
        {
            "id": secrets.token_hex(6),
            "name": name,
            "sha256": _digest(token),
            "scopes": sorted(scopes),
            "lender": lender,
            "created_at": datetime.now(UTC).isoformat(),
            "revoked": False,
        }
    )
    _write(tokens_file, content)
    return token


def revoke_token(tokens_file: Path, token_id: str) -> None:
    content = _read(tokens_file)
    for entry in content["tokens"]:
        if entry["id"] == token_id:
            entry["revoked"] = True
    _write(tokens_file, content)


class TokenStore:
    def __init__(self, tokens_file: Path) -> None:
        self._path = tokens_file
        self._mtime: float | None = None
        self._by_digest: dict[str, Principal] = {}

    def authenticate(self, token: str) -> Principal | None:
        self._reload_if_changed()
        digest = _digest(token)
        for known, principal in self._by_digest.items():
            if hmac.compare_digest(known, digest):
                return principal
        return None

    def _reload_if_changed(self) -> None:
        mtime = self._path.stat().st_mtime if self._path.exists() else None
        if mtime == self._mtime:
            return
        self._mtime = mtime
        self._by_digest = {
            entry["sha256"]: Principal(entry["id"], frozenset(entry["scopes"]), entry.get("lender"))
            for entry in _read(self._path)["tokens"]
            if not entry.get("revoked")
        }


_bearer = HTTPBearer(auto_error=False)


def require_scope(scope: str):
    """A FastAPI dependency: 401 without a valid token, 403 when the token lacks `scope`."""

    async def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthorized("a bearer token is required")
        principal = request.app.state.token_store.authenticate(credentials.credentials)
        if principal is None:
            raise Unauthorized("the token is not valid")
        request.state.principal = principal
        if not principal.allows(scope):
            raise Forbidden(f"the token lacks the scope {scope!r}")
        buckets = getattr(request.app.state, "rate_limits", None)
        if buckets is not None:
            buckets.take(principal.token_id)
        return principal

    return dependency
