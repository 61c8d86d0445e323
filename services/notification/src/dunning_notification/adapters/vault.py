"""Encryption at rest of borrower contact data.

The key from settings is a Fernet key (32 url-safe base64-encoded bytes, as the deployment makes it).
Values are sealed with AES-256-GCM under a key derived from it (HKDF-SHA256), a random 96-bit nonce
each, as ASCII tokens `v2.<base64url(nonce | ciphertext | tag)>` that travel in JSON as they are stored.
Tokens sealed with Fernet itself (AES-128-CBC with an HMAC), as contact data was before, still open;
`seal_with="fernet"` keeps sealing that way while replicas of an earlier release, which open only
Fernet tokens, still run beside this one (a rolling upgrade).

Why not Fernet for new tokens: it sets up a new HMAC and cipher context per token, about 15 us a field,
and every booking seals three fields and every reminder opens two; one AES-GCM context serves them all
in about 2 us. Random 96-bit nonces keep a key safe for far more than 2^30 seals; a key meant to outlive
that many bookings should be rotated."""

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TOKEN_PREFIX = b"v2."
NONCE_BYTES = 12
# Names the derived key's purpose: the same PII key derives unrelated keys for any other use.
KEY_INFO = b"dunning notification contact vault v2: AES-256-GCM"


SEALINGS = ("aes-gcm", "fernet")


class ContactVault:
    def __init__(self, key: str, seal_with: str = "aes-gcm") -> None:
        if seal_with not in SEALINGS:
            raise ValueError(f"pii_sealing must be one of {', '.join(SEALINGS)}, not {seal_with!r}")
        self._seal_with_fernet = seal_with == "fernet"
        try:
            self._fernet = Fernet(key.encode())
            secret = base64.urlsafe_b64decode(key.encode())
        except (ValueError, TypeError):
            raise ValueError("pii_key is not a valid Fernet key (32 url-safe base64-encoded bytes)") from None
        self._aead = AESGCM(HKDF(hashes.SHA256(), length=32, salt=None, info=KEY_INFO).derive(secret))

    def seal(self, value: str | None) -> bytes | None:
        if value is None:
            return None
        if self._seal_with_fernet:
            return self._fernet.encrypt(value.encode())
        nonce = os.urandom(NONCE_BYTES)
        return TOKEN_PREFIX + base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, value.encode(), None))

    def open(self, token: bytes | None) -> str | None:
        if token is None:
            return None
        token = bytes(token)
        try:
            if token.startswith(TOKEN_PREFIX):
                sealed = base64.urlsafe_b64decode(token[len(TOKEN_PREFIX):])
                return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], None).decode()
            return self._fernet.decrypt(token).decode()
        except (InvalidTag, InvalidToken, binascii.Error, ValueError):
            raise ValueError("contact data cannot be decrypted with the configured pii_key") from None
