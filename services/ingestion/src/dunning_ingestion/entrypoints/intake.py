"""HTTP intake of inbound events: parse each item, then apply the valid ones as one batch with the same
handlers the consumer uses; a refused item changes nothing and its neighbours are still applied. An accepted event
is also re-published, unchanged, to the inbound topic: the services that follow that topic see it, and
ingestion's own consumer finds it in the inbox and skips it."""

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, tuple_

from dunning_contracts import CloudEvent, Topics, parse_data
from dunning_contracts.envelope import MAX_EVENT_BYTES
from dunning_contracts.events import EventData
from dunning_ingestion.adapters.orm import tables
from dunning_ingestion.handlers import HANDLERS
from dunning_platform.auth import Principal
from dunning_platform.errors import DomainError


@dataclass
class Item:
    index: int
    event: CloudEvent | None = None
    data: EventData | None = None
    status: str = "rejected"
    errors: list[dict] = field(default_factory=list)
    lender: str | None = None  # the sender's lender, when its token is bound to one

    def result(self) -> dict:
        result = {"index": self.index, "id": self.event.id if self.event else None, "status": self.status}
        return result | ({"errors": self.errors} if self.errors else {})


def parse_item(index: int, raw: Any, principal: Principal, *, measure: bool = True) -> Item:
    """`measure=False` when the whole body is smaller than an event may be: no item can be too large."""
    item = Item(index, lender=principal.lender)
    try:
        item.event, item.data = _parse(raw, principal, measure)
    except ValidationError as error:
        item.errors = [{"field": _field(e["loc"]), "message": e["msg"]} for e in error.errors()]
    except _DataInvalid as error:
        item.errors = error.errors
    except DomainError as error:
        item.errors = [{"field": error.field or "event", "message": error.detail}]
    return item


def _parse(raw: Any, principal: Principal, measure: bool) -> tuple[CloudEvent, EventData]:
    if not isinstance(raw, dict):
        raise DomainError("an event must be a JSON object (a CloudEvent)", field="event")
    if measure and len(json.dumps(raw, separators=(",", ":")).encode()) > MAX_EVENT_BYTES:
        raise DomainError(f"the event is larger than {MAX_EVENT_BYTES} bytes", field="event")
    event = CloudEvent.model_validate(raw)
    if event.type not in HANDLERS:
        raise DomainError(f"unknown event type {event.type!r}; expected one of {sorted(HANDLERS)}", field="type")
    data = _data(event)
    if principal.lender and getattr(data, "lender", principal.lender) != principal.lender:
        raise DomainError(f"this token may only send events of lender {principal.lender}", field="data.lender")
    return event, data


def _data(event: CloudEvent) -> EventData:
    try:
        return parse_data(event)
    except ValidationError as error:
        raise _DataInvalid(error) from None


class _DataInvalid(DomainError):
    def __init__(self, error: ValidationError) -> None:
        self.errors = [{"field": _field(("data", *e["loc"])), "message": e["msg"]} for e in error.errors()]
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in self.errors), field="data")


def _field(location) -> str:
    return ".".join(str(part) for part in location) or "event"


async def apply(runtime, items: list[Item]) -> list[Item]:
    """Apply every valid, new item in one transaction; a refused one is answered and left out."""
    async with runtime.uow() as uow:
        fresh = await _claim(uow, [i for i in items if i.event is not None])
        for item in fresh:
            uow.batch.add(item.event, item.data, lender=item.lender)
        errors = await uow.batch.apply(uow, keep_going=True)
        for item, error in zip(fresh, errors):
            _settle(uow, item, error)
        await _unclaim(uow, [i for i in fresh if i.status == "rejected"])
        await uow.commit()
    return items


async def _claim(uow, valid: list[Item]) -> list[Item]:
    """The items not seen before (the inbox is shared with the consumer); the others are duplicates."""
    claimed = await uow.claim([_key(i) for i in valid], topic=Topics.REPAYMENT_EVENTS)
    fresh = []
    for item in valid:
        if _key(item) in claimed:
            claimed.discard(_key(item))
            fresh.append(item)
        else:
            item.status = "duplicate"
    return fresh


def _settle(uow, item: Item, error: DomainError | None) -> None:
    if error is not None:
        item.status, item.errors = "rejected", [{"field": error.field or "event", "message": error.detail}]
        return
    item.status = "accepted"
    event = item.event
    uow.publish_raw(
        Topics.REPAYMENT_EVENTS, item.data.loan_id.encode(), event.to_json_bytes(), event_type=event.type, event_id=event.id
    )


async def _unclaim(uow, refused: list[Item]) -> None:
    """A refused event was not handled: the same id, corrected, must be accepted later."""
    if refused:
        inbox = tables.inbox
        keys = [_key(i) for i in refused]
        await uow.session.execute(delete(inbox).where(tuple_(inbox.c.source, inbox.c.event_id).in_(keys)))


def _key(item: Item) -> tuple[str, str]:
    return (item.event.source, item.event.id)


# Lender webhook signatures: `X-Dunning-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.

SIGNATURE_HEADER = "X-Dunning-Signature"
SIGNATURE_FORMAT = (
    f'{SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the lender\'s secret>'
)


class SignatureRefused(Exception):
    """The request does not carry a valid signature of its lender; the message says why."""


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify_signature(header: str | None, body: bytes, secret: bytes, now: datetime, tolerance_seconds: int) -> None:
    """Raise SignatureRefused unless `header` signs exactly `body` with `secret`, at a time within the tolerance."""
    if not header:
        raise SignatureRefused(f"this lender signs its requests; the {SIGNATURE_HEADER} header is missing")
    timestamp, signatures = _parse_signature(header)
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise SignatureRefused(f"the signature's timestamp t={timestamp} is more than {tolerance_seconds} s from now")
    expected = sign(secret, timestamp, body).encode()
    # Every v1 is compared, in constant time each: a lender rotating its secret may send two.
    if not any([hmac.compare_digest(expected, candidate.encode()) for candidate in signatures]):
        raise SignatureRefused("the signature does not match the body and this lender's secret")


def _parse_signature(header: str) -> tuple[int, list[str]]:
    pairs = [part.strip().partition("=") for part in header.split(",")]
    times = [value for name, _, value in pairs if name == "t"]
    signatures = [value.lower() for name, _, value in pairs if name == "v1"]
    if len(times) != 1 or not times[0].isdigit() or not signatures:
        raise SignatureRefused(f"the signature header is malformed; expected {SIGNATURE_FORMAT}")
    return int(times[0]), signatures
