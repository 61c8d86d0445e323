"""What the dispatcher decided for each reminder of a batch, before any provider is called."""

from dataclasses import dataclass
from datetime import datetime

from dunning_notification.adapters.channels import DeliveryFailed, OutboundMessage, Receipt
from dunning_notification.domain import guard


@dataclass(frozen=True)
class Send:
    message: OutboundMessage
    region: str
    pinned: str | None = None


@dataclass(frozen=True)
class Refuse:
    verdict: guard.Suppressed
    region: str


@dataclass(frozen=True)
class Fail:
    reason: str
    region: str = "CN"


@dataclass(frozen=True)
class Wait:
    until: datetime
    reason: str


@dataclass(frozen=True)
class Expire:
    pass


@dataclass(frozen=True)
class LookUp:
    """A pinned reminder the guard would now refuse: its provider is asked whether the request ever reached
    it. If so the borrower has it (`sent`); if not nobody was contacted and `refusal` applies."""

    channel: str
    reference: str
    provider: str
    refusal: Refuse | Expire
    region: str


@dataclass(frozen=True)
class NotHeld:
    """A provider's answer to a lookup: it holds no message under the reference."""


Plan = Send | Refuse | Fail | Wait | Expire | LookUp
Outcome = Receipt | DeliveryFailed | NotHeld | None
