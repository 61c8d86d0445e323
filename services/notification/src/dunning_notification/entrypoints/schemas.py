"""The HTTP shapes of the notification API."""

from datetime import UTC, datetime, time
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from dunning_contracts.events import Channel


# PostgreSQL text cannot hold NUL, and ids on this platform are at most 128 characters (an index holds them).
ID_CONSTRAINTS = {"min_length": 1, "max_length": 128, "pattern": r"^[^\x00]+$"}


def _storable(moment: datetime) -> datetime:
    # The database stores UTC: 0001-01-01T00:00+05:00 is a valid time whose UTC form no datetime can hold.
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time lies outside the years 1 to 9999 in UTC") from None
    return moment


StorableDatetime = Annotated[AwareDatetime, AfterValidator(_storable)]


class AttemptView(BaseModel):
    occurred_at: datetime
    outcome: str
    reason: str | None
    provider: str | None
    provider_message_id: str | None


class ReminderView(BaseModel):
    reminder_id: str
    case_id: str
    loan_id: str
    borrower_id: str
    channel: str
    template: str
    stage: str
    status: str
    reason: str | None
    attempts: int
    provider: str | None
    provider_message_id: str | None
    not_before: datetime
    expires_at: datetime
    next_attempt_at: datetime | None
    requested_at: datetime
    sent_at: datetime | None
    updated_at: datetime
    to: str | None = Field(description="the address it went or goes to, masked")
    history: list[AttemptView]


class ReminderList(BaseModel):
    items: list[ReminderView]


class ContactHours(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: time = Field(alias="from", description="local time the borrower may be contacted from, e.g. 09:00")
    end: time = Field(alias="until", description="local time after which the borrower is not contacted, e.g. 20:00")

    @model_validator(mode="after")
    def _start_before_end(self) -> "ContactHours":
        if self.start >= self.end:
            raise ValueError("contact_hours: 'from' must be earlier than 'until' on the same day")
        return self


class ContactPreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opted_out: list[Channel] = Field(default_factory=list, description="channels the borrower refuses")
    do_not_contact: bool = False
    preferred_channel: Channel | None = None
    contact_hours: ContactHours | None = None
    hold_until: StorableDatetime | None = Field(default=None, description="no contact before this moment")


class ContactHoursOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: str = Field(alias="from", examples=["09:00"])
    end: str = Field(alias="until", examples=["20:00"])


class ContactPreferencesOut(BaseModel):
    borrower_id: str
    opted_out: list[Channel]
    do_not_contact: bool
    preferred_channel: Channel | None
    contact_hours: ContactHoursOut | None
    hold_until: datetime | None
    updated_at: datetime
