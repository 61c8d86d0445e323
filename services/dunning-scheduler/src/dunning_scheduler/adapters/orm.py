"""The scheduler's tables, all in the `scheduler` schema (created by migrations, never create_all)."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, Identity, Index, Integer, Numeric, Text, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dunning_messaging import messaging_tables
from dunning_platform.db import service_metadata

SCHEMA = "scheduler"
metadata = service_metadata(SCHEMA)
tables = messaging_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        Decimal: Numeric(),
        dict[str, Any]: JSONB,
        list[Any]: JSONB,
    }


class PolicyRow(Base):
    __tablename__ = "policies"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(Text)


class LoanProfile(Base):
    """What LoanBooked tells about a loan, without the borrower's name, phone or e-mail."""

    __tablename__ = "loans"

    loan_id: Mapped[str] = mapped_column(Text, primary_key=True)
    borrower_id: Mapped[str] = mapped_column(Text)
    lender: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    due_dates: Mapped[list[Any]]
    booked_at: Mapped[datetime]


class EarlyClearance(Base):
    """An OverdueCleared seen before any case of its loan: the events overtook each other."""

    __tablename__ = "early_clearances"

    loan_id: Mapped[str] = mapped_column(Text, primary_key=True)
    cleared_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # One open (or paused) case per loan; a new overdue episode after resolution opens a new case.
        Index("uq_cases_loan_unresolved", "loan_id", unique=True, postgresql_where=text("status <> 'resolved'")),
        # Agent claims count a borrower's calls of the day across the borrower's loans.
        Index("ix_cases_borrower", "borrower_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    loan_id: Mapped[str] = mapped_column(Text, index=True)
    borrower_id: Mapped[str] = mapped_column(Text)
    lender: Mapped[str] = mapped_column(Text)
    product: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(Text)
    overdue_since: Mapped[date] = mapped_column(Date)
    day_zero: Mapped[date] = mapped_column(Date)
    days_past_due: Mapped[int] = mapped_column(Integer)
    overdue_amount: Mapped[Decimal]
    penalty_accrued: Mapped[Decimal]
    outstanding_balance: Mapped[Decimal]
    broken_promises: Mapped[int] = mapped_column(Integer, default=0)
    policy_version: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[datetime]
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    paused_until: Mapped[datetime | None]
    pause_reason: Mapped[str | None] = mapped_column(Text)
    risk_points: Mapped[int] = mapped_column(Integer, default=0)
    risk_band: Mapped[str] = mapped_column(Text, default="low")
    risk_factors: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    # Outcome code -> count, from agents' completed tasks; failed_contacts counts the latest run of failures.
    contact_outcomes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    failed_contacts: Mapped[int] = mapped_column(Integer, default=0)
    past_cures: Mapped[int] = mapped_column(Integer, default=0)
    # Where the case's ladder came from: a policy segment, and an arm of a champion/challenger test.
    segment: Mapped[str | None] = mapped_column(Text)
    arm: Mapped[str | None] = mapped_column(Text)


CASE_COLUMNS = tuple(column.name for column in Case.__table__.columns)


class NewCase:
    """A case opened while taking in a run of events: the same attributes as Case, as a plain record. It
    is written by COPY with the run's other rows and never goes through the session, whose tracking of
    every attribute set cost about a quarter of deciding on a new case. Every column is set before the
    COPY; one left unset fails there instead of writing a NULL."""

    __slots__ = CASE_COLUMNS

    def __init__(self, **values) -> None:
        for name, value in values.items():
            setattr(self, name, value)


class HistoryEntry(Base):
    """Every decision about a case, with the policy version that made it and why."""

    __tablename__ = "case_history"
    __table_args__ = (Index("ix_case_history_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(Text)
    stage: Mapped[str | None] = mapped_column(Text)
    policy_version: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class Timer(Base):
    """A durable timer: what to do (payload) and when (due_at). Fired once, in the transaction that
    emits its event; `reminder_id` is fixed when the timer is made, so no retry can make a second one."""

    __tablename__ = "timers"
    __table_args__ = (
        Index("ix_timers_due", "due_at", postgresql_where=text("status = 'pending'")),
        Index("ix_timers_case", "case_id", "status"),
        Index("ix_timers_loan_pending", "loan_id", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    reminder_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, server_default=text("gen_random_uuid()"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    loan_id: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    payload: Mapped[dict[str, Any]]
    # A reminder's ReminderRequested data as JSON text, validated when planned.
    event: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    cancelled_reason: Mapped[str | None] = mapped_column(Text)


class Promise(Base):
    __tablename__ = "promises"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    amount: Mapped[Decimal]
    promised_date: Mapped[date] = mapped_column(Date)
    overdue_at_promise: Mapped[Decimal]
    status: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]


class Hold(Base):
    __tablename__ = "holds"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    reason: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(Text)
    released_at: Mapped[datetime | None]
    # expired, resolved, or released early through the API (then released_by names the token).
    released_because: Mapped[str | None] = mapped_column(Text)
    released_by: Mapped[str | None] = mapped_column(Text)


class AgentTask(Base):
    """Work for a collector: a call or a field visit the policy asked for."""

    __tablename__ = "agent_tasks"
    __table_args__ = (
        Index(
            "ix_agent_tasks_queue", "kind", text("risk_points DESC"), text("overdue_amount DESC"),
            postgresql_where=text("status = 'queued'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    timer_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    loan_id: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    template: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(Text)
    priority: Mapped[Decimal]
    risk_points: Mapped[int] = mapped_column(Integer, default=0)
    overdue_amount: Mapped[Decimal] = mapped_column(default=Decimal(0))
    status: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class RepaymentPlan(Base):
    """An instalment arrangement: while active it pauses the policy and has its own schedule."""

    __tablename__ = "plans"
    __table_args__ = (
        Index("uq_plans_case_active", "case_id", unique=True, postgresql_where=text("status = 'active'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    loan_id: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    total: Mapped[Decimal]
    # [{"seq", "due_date", "amount"}], amounts as strings so no float ever touches them.
    installments: Mapped[list[Any]]
    overdue_at_plan: Mapped[Decimal]
    status: Mapped[str] = mapped_column(Text)
    kept_installments: Mapped[int] = mapped_column(Integer, default=0)
    missed_seq: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(Text)
    settled_at: Mapped[datetime | None]
    settled_because: Mapped[str | None] = mapped_column(Text)


class LoanHistoryEntry(Base):
    """Decisions about a loan that has no open case: pre-due reminders cancelled, a failed auto-debit."""

    __tablename__ = "loan_history"
    __table_args__ = (Index("ix_loan_history_loan", "loan_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    loan_id: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class Payment(Base):
    """A repayment the lender reported (RepaymentReceived): what promises and plans are judged by."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_loan_paid", "loan_id", "paid_at"),)

    payment_id: Mapped[str] = mapped_column(Text, primary_key=True)
    loan_id: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(Text)
    paid_at: Mapped[datetime]
    received_at: Mapped[datetime]
