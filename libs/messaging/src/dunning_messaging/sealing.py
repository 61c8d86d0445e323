"""Outbox rows that may carry borrowers' contact data are kept encrypted until the relay sends them.

Raw inbound events (a LoanBooked names the borrower) and dead letters (any message, unchanged) are
sealed with the service's PII key; the bus itself is protected by the broker's own controls."""

from cryptography.fernet import Fernet

from dunning_contracts import Topics


def needs_sealing(topic: str) -> bool:
    return topic == Topics.REPAYMENT_EVENTS or topic.endswith(".dlq")


class Sealer:
    def __init__(self, key: str | None) -> None:
        self._fernet = Fernet(key.encode()) if key else None

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def seal(self, topic: str, value: bytes) -> tuple[bytes, bool]:
        if self._fernet is None or not needs_sealing(topic):
            return value, False
        return self._fernet.encrypt(value), True

    def open(self, value: bytes, sealed: bool) -> bytes:
        if not sealed:
            return value
        if self._fernet is None:
            raise RuntimeError("an outbox row is sealed but no PII key is configured")
        return self._fernet.decrypt(value)
