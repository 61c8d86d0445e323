"""Borrower names are needed only to address the demand letter; they are kept encrypted with the
platform's PII key, and not at all when no key is configured."""

from cryptography.fernet import Fernet, InvalidToken


class NameVault:
    def __init__(self, key: str | None) -> None:
        self._fernet = Fernet(key.encode()) if key else None

    def seal(self, name: str | None) -> bytes | None:
        if self._fernet is None or not name:
            return None
        return self._fernet.encrypt(name.encode())

    def open(self, sealed: bytes | None) -> str | None:
        """The name, or None when there is none or it was sealed with another key (after a rotation)."""
        if self._fernet is None or sealed is None:
            return None
        try:
            return self._fernet.decrypt(sealed).decode()
        except InvalidToken:
            return None
