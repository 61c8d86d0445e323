"""Encryption at rest of borrower contact data (Fernet: AES-128-CBC with an HMAC, key from settings)."""

from cryptography.fernet import Fernet, InvalidToken


class ContactVault:
    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode())
        except (ValueError, TypeError):
            raise ValueError("pii_key is not a valid Fernet key (32 url-safe base64-encoded bytes)") from None

    def seal(self, value: str | None) -> bytes | None:
        return None if value is None else self._fernet.encrypt(value.encode())

    def open(self, token: bytes | None) -> str | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(bytes(token)).decode()
        except InvalidToken:
            raise ValueError("contact data cannot be decrypted with the configured pii_key") from None
