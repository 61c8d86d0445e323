"""CloudEvents 1.0 in structured JSON mode: one JSON object per Kafka value."""

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

MAX_EVENT_BYTES = 256 * 1024


class CloudEvent(BaseModel):
    # Extension attributes (traceparent, partitionkey, ...) are kept, not refused.
    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=256)
    source: str = Field(min_length=1, max_length=512)
    type: str = Field(min_length=1, max_length=128)
    time: AwareDatetime
    subject: str | None = Field(default=None, max_length=128, description="the loan id")
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


def new_event(
    type_: str,
    source: str,
    data: BaseModel,
    subject: str,
    time: datetime | None = None,
    **extensions: str,
) -> CloudEvent:
    """A fresh event with a unique id; `data` is serialised with money as decimal strings. Extension
    attributes (`traceparent`) travel in the envelope."""
    return CloudEvent(
        specversion="1.0",
        id=str(uuid.uuid4()),
        source=source,
        type=type_,
        time=time or datetime.now(UTC),
        subject=subject,
        data=data.model_dump(mode="json"),
        **extensions,
    )
