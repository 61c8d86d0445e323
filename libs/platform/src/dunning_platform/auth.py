"""Bearer tokens with scopes. Only a token's SHA-256 is stored; the file is reloaded when it changes,
so rotation and revocation need no restart."""

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

SCOPES = ("events:write", "cases:read", "cases:write", "policy:write", "legal:read", "legal:write", "admin")


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
        if not principal.allows(scope):
            raise Forbidden(f"the token lacks the scope {scope!r}")
        request.state.principal = principal
        return principal

    return dependency
