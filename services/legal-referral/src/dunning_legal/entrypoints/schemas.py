"""The JSON shapes of the HTTP API."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from dunning_contracts.types import Currency, Decimal_, Money, Rate
from dunning_legal.adapters.orm import AuditEntry, LegalCase, Partner, PartnerNotice
from dunning_legal.domain.lifecycle import Status, allowed_next


def _storable(moment: datetime) -> datetime:
    # The database stores UTC: 0001-01-01T00:00+05:00 is a valid time whose UTC form no datetime can hold.
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time lies outside the years 1 to 9999 in UTC") from None
    return moment


StorableDatetime = Annotated[AwareDatetime, AfterValidator(_storable)]


class LegalCaseView(BaseModel):
    legal_case_id: str
    case_id: str
    loan_id: str
    borrower_id: str
    lender: str | None
    partner_id: str | None = Field(description="null while the referral waits for a partner")
    status: Status
    region: str
    overdue_amount: Decimal_
    currency: str
    opened_at: datetime
    assigned_at: datetime | None
    accept_by: datetime | None
    updated_at: datetime
    allowed_moves: list[Status]

    @classmethod
    def of(cls, case: LegalCase) -> "LegalCaseView":
        fields = {name: getattr(case, name) for name in cls.model_fields if name != "allowed_moves"}
        return cls(**fields, allowed_moves=list(allowed_next(case.status)))


class AuditView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str
    partner_id: str | None
    note: str | None


class NoticeView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    notice_id: int = Field(validation_alias="id")
    legal_case_id: str
    partner_id: str
    kind: str
    detail: str
    created_at: datetime
    sent_at: datetime | None


class LegalCaseDetail(LegalCaseView):
    escalation: dict[str, Any]
    audit_trail: list[AuditView]
    partner_notices: list[NoticeView]

    @classmethod
    def build(cls, case: LegalCase, trail: list[AuditEntry], notices: list[PartnerNotice]) -> "LegalCaseDetail":
        view = LegalCaseView.of(case).model_dump()
        audit = [AuditView.model_validate(entry) for entry in trail]
        told = [NoticeView.model_validate(notice) for notice in notices]
        return cls(**view, escalation=case.escalation, audit_trail=audit, partner_notices=told)


class LegalCasePage(BaseModel):
    items: list[LegalCaseView]
    limit: int
    offset: int
    next_offset: int | None = Field(description="the offset of the next page; null on the last page")


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status
    note: str | None = Field(default=None, max_length=2000, pattern=r"^[^\x00]*$")
    partner_id: str | None = Field(
        default=None,
        max_length=128,
        pattern=r"^[^\x00]*$",
        description="the partner making the move; refused when the referral has since gone to another partner",
    )


class FeeTerms(BaseModel):
    """How a partner is paid; amounts and rates are decimal strings, as everywhere on this platform."""

    model_config = ConfigDict(extra="forbid")

    model: Literal["contingency", "fixed", "hourly"]
    currency: Currency
    rate: Rate | None = Field(default=None, description='share of what is recovered, e.g. "0.18"')
    filing_fee: Money | None = None
    minimum_fee: Money | None = None
    per_case: Money | None = None
    enforcement_fee: Money | None = None
    hourly_rate: Money | None = None


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]+$")
    kind: Literal["law_firm", "collection_agency"]
    regions: list[Annotated[str, Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]] = Field(min_length=1, max_length=50)
    capacity: int = Field(ge=0, le=100_000)
    fee_terms: FeeTerms
    contact_email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")
    active: bool = True


class PartnerView(BaseModel):
    partner_id: str
    name: str
    kind: str
    regions: list[str]
    capacity: int
    open_referrals: int
    fee_terms: dict[str, Any]
    contact_email: str | None
    active: bool

    @classmethod
    def of(cls, partner: Partner, open_referrals: int) -> "PartnerView":
        fields = {name: getattr(partner, name) for name in cls.model_fields if name != "open_referrals"}
        return cls(**fields, open_referrals=open_referrals)
