"""Signed provider callbacks: `X-Dunning-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.

The timestamp is inside the signed text, so an old receipt cannot be replayed with a fresh header."""

import hashlib
import hmac

TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str | None, body: bytes, now: float) -> bool:
    fields = dict(part.split("=", 1) for part in (header or "").split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={fields.get('v1', '')}")
