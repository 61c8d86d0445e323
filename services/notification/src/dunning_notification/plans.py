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


Plan = Send | Refuse | Fail | Wait | Expire
Outcome = Receipt | DeliveryFailed | None
