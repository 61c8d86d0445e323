"""The state directory: embedded data, logs and the secrets generated on first start, reused after."""

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from dunning_platform.auth import issue_token


def repo_root() -> Path:
    """The checkout this package is installed from (editable), or DUNNING_REPO_ROOT, or the working directory."""
    if os.environ.get("DUNNING_REPO_ROOT"):
        return Path(os.environ["DUNNING_REPO_ROOT"]).resolve()
    for candidate in Path(__file__).resolve().parents:
        if (candidate / "services").is_dir() and (candidate / "libs").is_dir():
            return candidate
    return Path.cwd()


@dataclass(frozen=True)
class StateDir:
    root: Path

    @classmethod
    def from_env(cls) -> "StateDir":
        configured = os.environ.get("DUNNING_STATE_DIR")
        root = Path(configured) if configured else repo_root() / ".dunning"
        return cls(root.expanduser().resolve())

    @property
    def pgdata(self) -> Path:
        return self.root / "pg"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.json"

    @property
    def tokens_file(self) -> Path:
        return self.root / "tokens.json"

    @property
    def admin_token_file(self) -> Path:
        return self.root / "admin.token"

    @property
    def pii_key_file(self) -> Path:
        return self.root / "pii.key"

    @property
    def receipt_secret_file(self) -> Path:
        return self.root / "receipt.secret"

    def create(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)


def write_private(path: Path, text: str) -> None:
    """Write a secret so that no moment exists in which another user could read it."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.chmod(temporary, 0o600)
    temporary.replace(path)


def role_passwords(secrets_file: Path, roles: list[str]) -> dict[str, str]:
    """One password per database role, generated once and kept; later calls return the same ones."""
    stored = json.loads(secrets_file.read_text()) if secrets_file.exists() else {}
    passwords = stored.setdefault("role_passwords", {})
    missing = [role for role in roles if role not in passwords]
    for role in missing:
        passwords[role] = secrets.token_urlsafe(24)
    if missing or not secrets_file.exists():
        secrets_file.parent.mkdir(parents=True, exist_ok=True)
        write_private(secrets_file, json.dumps(stored, indent=2))
    return {role: passwords[role] for role in roles}


def admin_token(state: StateDir) -> str:
    """The admin token of this state dir; issued on first start, its plaintext kept only in admin.token."""
    if state.admin_token_file.exists() and state.tokens_file.exists():
        return state.admin_token_file.read_text().strip()
    token = issue_token(state.tokens_file, name="admin (dev stack)", scopes=["admin"])
    write_private(state.admin_token_file, token + "\n")
    return token


def pii_key(key_file: Path) -> str:
    """The Fernet key that encrypts borrower contact data at rest; losing it makes that data unreadable."""
    if key_file.exists():
        return key_file.read_text().strip()
    key = Fernet.generate_key().decode()
    write_private(key_file, key + "\n")
    return key


def receipt_secret(secret_file: Path) -> str:
    """The HMAC secret the dev provider signs delivery receipts with, and notification checks them by."""
    if secret_file.exists():
        return secret_file.read_text().strip()
    secret = secrets.token_urlsafe(32)
    write_private(secret_file, secret + "\n")
    return secret
