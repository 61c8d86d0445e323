"""The JSON shapes of ingestion's HTTP API, as its OpenAPI document shows them."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from dunning_contracts.types import Decimal_


class FieldError(BaseModel):
    field: str
    message: str


class IntakeResult(BaseModel):
    index: int
    id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    errors: list[FieldError] | None = None


class BatchResults(BaseModel):
    results: list[IntakeResult]
    accepted: int
    duplicate: int
    rejected: int


class Amounts(BaseModel):
    principal: Decimal_
    interest: Decimal_


class Paid(Amounts):
    penalty: Decimal_


class InstallmentView(BaseModel):
    seq: int
    due_date: date
    status: Literal["paid", "overdue", "in_grace", "upcoming"]
    due: Amounts
    paid: Paid
    penalty_accrued: Decimal_
    outstanding: Decimal_
    overdue: Decimal_
    days_past_due: int


class LoanView(BaseModel):
    loan_id: str
    lender: str
    product: str
    borrower_id: str
    currency: str
    principal: Decimal_
    grace_days: int
    penalty_rate_daily: Decimal_
    waterfall: list[str]
    closed_at: datetime | None
    close_reason: str | None
    status: Literal["current", "overdue", "closed"]
    as_of: date
    days_past_due: int
    overdue_since: date | None
    overdue_amount: Decimal_
    penalty_accrued: Decimal_
    penalty_outstanding: Decimal_
    outstanding_balance: Decimal_
    credit_balance: Decimal_
    installments: list[InstallmentView]


class SweepView(BaseModel):
    run_on: date
    loans_aged: int
    notices: int
