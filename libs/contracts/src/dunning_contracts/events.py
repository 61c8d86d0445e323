"""The data of every event type of CONTRACT §2. Consumers ignore fields they do not know."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dunning_contracts.envelope import CloudEvent
from dunning_contracts.types import Currency, Decimal_, Id, Money, PositiveMoney, Rate, Timestamp

Stage = Literal["reminder", "phone", "field_visit", "legal"]
STAGES: tuple[Stage, ...] = ("reminder", "phone", "field_visit", "legal")
Channel = Literal["sms", "email", "push", "letter", "voice"]


class EventData(BaseModel):
    model_config = ConfigDict(extra="ignore")


# Inbound: lending.repayment-events.v1


class Borrower(EventData):
    borrower_id: Id
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    locale: str = Field(default="zh-CN", max_length=16)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    region: str = Field(default="CN", max_length=32)


class Installment(EventData):
    seq: int = Field(ge=1)
    due_date: date
    principal_due: Money
    interest_due: Money


class LoanBooked(EventData):
    loan_id: Id
    lender: Id
    product: str = Field(min_length=1, max_length=64)
    currency: Currency
    principal: PositiveMoney
    booked_at: Timestamp
    borrower: Borrower
    installments: list[Installment] = Field(min_length=1, max_length=600)
    penalty_rate_daily: Rate | None = None
    grace_days: int | None = Field(default=None, ge=0, le=365)

    @model_validator(mode="after")
    def _installment_seqs_are_unique(self) -> "LoanBooked":
        seqs = [i.seq for i in self.installments]
        if len(seqs) != len(set(seqs)):
            raise ValueError("installments: seq values must be unique")
        return self


class RepaymentReceived(EventData):
    loan_id: Id
    payment_id: Id
    amount: PositiveMoney
    currency: Currency
    paid_at: Timestamp


class RepaymentFailed(EventData):
    loan_id: Id
    seq: int = Field(ge=1)
    reason: str = Field(min_length=1, max_length=500)
    failed_at: Timestamp


class LoanClosed(EventData):
    loan_id: Id
    reason: Literal["repaid", "settled", "written_off", "sold"]
    closed_at: Timestamp


# Outbound


class LoanOverdue(EventData):
    loan_id: Id
    borrower_id: Id
    lender: Id
    product: str
    currency: Currency
    overdue_since: date
    days_past_due: int = Field(ge=0)
    overdue_amount: Money
    penalty_accrued: Money
    outstanding_balance: Money
    as_of: Timestamp


class OverdueCleared(EventData):
    loan_id: Id
    reason: Literal["paid", "closed", "restructured"]
    cleared_at: Timestamp


class ReminderRequested(EventData):
    reminder_id: Id
    case_id: Id
    loan_id: Id
    borrower_id: Id
    channel: Channel
    template: str = Field(min_length=1, max_length=128)
    locale: str = Field(max_length=16)
    stage: Stage
    not_before: Timestamp
    expires_at: Timestamp


class ReminderSent(EventData):
    reminder_id: Id
    loan_id: Id
    channel: Channel
    status: Literal["sent", "delivered", "failed", "suppressed"]
    reason: str | None = None
    provider: str | None = None
    provider_message_id: str | None = None
    occurred_at: Timestamp


class CaseEscalated(EventData):
    case_id: Id
    loan_id: Id
    borrower_id: Id
    from_stage: Stage
    to_stage: Stage
    reason: str
    days_past_due: int = Field(ge=0)
    overdue_amount: Money
    currency: Currency
    escalated_at: Timestamp


LegalStatus = Literal["referred", "accepted", "filed", "judgment", "enforcement", "closed", "withdrawn", "settled"]


class LegalCaseOpened(EventData):
    legal_case_id: Id
    case_id: Id
    loan_id: Id
    partner_id: Id
    status: LegalStatus
    occurred_at: Timestamp


class LegalCaseUpdated(LegalCaseOpened):
    pass


# Extension: dunning.case-events.v1 (dunning-scheduler). What happened to a case besides its stage, so
# that consumers (legal-referral's evidence file) need no read of the scheduler's schema.


class CaseEvent(EventData):
    case_id: Id
    loan_id: Id
    occurred_at: Timestamp


class PromiseMade(CaseEvent):
    promise_id: Id
    amount: PositiveMoney
    currency: Currency
    promised_date: date
    taken_by: str | None = Field(default=None, max_length=128)


class PromiseKept(CaseEvent):
    promise_id: Id


class PromiseBroken(CaseEvent):
    promise_id: Id
    broken_promises: int = Field(ge=1)


HoldReason = Literal["dispute", "complaint", "bereavement", "hardship"]


class HoldPlaced(CaseEvent):
    hold_id: Id
    reason: HoldReason
    expires_at: Timestamp
    placed_by: str | None = Field(default=None, max_length=128)


class HoldReleased(CaseEvent):
    hold_id: Id
    reason: HoldReason
    released_because: Literal["released", "expired", "resolved"]


class PlanInstallment(EventData):
    seq: int = Field(ge=1)
    due_date: date
    amount: PositiveMoney


class PlanAgreed(CaseEvent):
    plan_id: Id
    currency: Currency
    installments: list[PlanInstallment] = Field(min_length=1, max_length=120)
    agreed_by: str | None = Field(default=None, max_length=128)


class PlanCompleted(CaseEvent):
    plan_id: Id


class PlanBroken(CaseEvent):
    plan_id: Id
    missed_seq: int = Field(ge=1)


class ContactAttempted(CaseEvent):
    """An agent's call or field visit, as reported when the agent completes the task: both sides of the
    platform count it with the automated reminders against the same per-borrower contact caps. No PII."""

    task_id: Id
    borrower_id: Id | None = None
    channel: Literal["phone", "field"]
    # The borrower was reached: a conversation took place, whatever came of it.
    connected: bool
    outcome: str = Field(min_length=1, max_length=32)
    # Which agent made the call or visit (an internal staff id, never the borrower's): the evidence file
    # of a legal referral names who contacted the borrower.
    agent_id: str | None = Field(default=None, max_length=128)


CASE_EVENT_TYPES = (
    PromiseMade, PromiseKept, PromiseBroken, HoldPlaced, HoldReleased, PlanAgreed, PlanCompleted, PlanBroken, ContactAttempted,
)


EVENT_TYPES: dict[str, type[EventData]] = {
    model.__name__: model
    for model in (
        LoanBooked,
        RepaymentReceived,
        RepaymentFailed,
        LoanClosed,
        LoanOverdue,
        OverdueCleared,
        ReminderRequested,
        ReminderSent,
        CaseEscalated,
        LegalCaseOpened,
        LegalCaseUpdated,
        *CASE_EVENT_TYPES,
    )
}


class UnknownEventType(ValueError):
    pass


def parse_data(event: CloudEvent) -> EventData:
    """Validate `event.data` against the model of `event.type` (pydantic.ValidationError on bad data)."""
    model = EVENT_TYPES.get(event.type)
    if model is None:
        raise UnknownEventType(f"type: unknown event type {event.type!r}")
    # The model's own validator: `model_validate` costs a Python frame and its keyword checks per event.
    return model.__pydantic_validator__.validate_python(event.data)


__all__ = ["Decimal_", "STAGES"] + list(EVENT_TYPES)
