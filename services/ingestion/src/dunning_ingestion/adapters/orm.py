"""Ingestion's tables, all in the `ingestion` schema: loans and their installments (the ledger),
payments, bounced debits, events parked until their loan arrives, and the sweep's diary."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, DateTime, Identity, Index, Integer, Numeric, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dunning_messaging import messaging_tables
from dunning_platform.db import service_metadata

SCHEMA = "ingestion"
metadata = service_metadata(SCHEMA)
tables = messaging_tables(metadata)

ZERO = text("0")


class Base(DeclarativeBase):
    metadata = metadata


class LoanRow(Base):
    __tablename__ = "loans"

    loan_id: Mapped[str] = mapped_column(Text, primary_key=True)
    lender: Mapped[str] = mapped_column(Text)
    product: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    minor_digits: Mapped[int] = mapped_column(Integer)
    principal: Mapped[Decimal] = mapped_column(Numeric)
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    borrower_id: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    grace_days: Mapped[int] = mapped_column(Integer)
    penalty_rate_daily: Mapped[Decimal] = mapped_column(Numeric)
    waterfall: Mapped[str] = mapped_column(Text)
    schedule_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    schedule_event_id: Mapped[str] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    close_reason: Mapped[str | None] = mapped_column(Text)
    # The figures as of `as_of`, kept for the sweep and for reports; the ledger can always rebuild them.
    as_of: Mapped[date] = mapped_column(Date)
    days_past_due: Mapped[int] = mapped_column(Integer, server_default=ZERO)
    overdue_since: Mapped[date | None] = mapped_column(Date)
    overdue_amount: Mapped[Decimal] = mapped_column(Numeric, server_default=ZERO)
    penalty_accrued: Mapped[Decimal] = mapped_column(Numeric, server_default=ZERO)
    penalty_outstanding: Mapped[Decimal] = mapped_column(Numeric, server_default=ZERO)
    outstanding_balance: Mapped[Decimal] = mapped_column(Numeric, server_default=ZERO)
    credit_balance: Mapped[Decimal] = mapped_column(Numeric, server_default=ZERO)
    next_review_on: Mapped[date | None] = mapped_column(Date)
    # What the bus last heard: the overdue amount of the last LoanOverdue, zero after OverdueCleared.
    reported_overdue: Mapped[Decimal] = mapped_column(Numeric, server_default=ZERO)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_loans_next_review_on", "next_review_on", postgresql_where=text("closed_at IS NULL")),
    )


class InstallmentRow(Base):
    __tablename__ = "installments"

    loan_id: Mapped[str] = mapped_column(Text, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_date: Mapped[date] = mapped_column(Date)
    principal_due: Mapped[Decimal] = mapped_column(Numeric)
    interest_due: Mapped[Decimal] = mapped_column(Numeric)
    principal_paid: Mapped[Decimal] = mapped_column(Numeric, server_default=ZERO)
    interest_paid: Mapped[Decimal] = mapped_column(Numeric, server_default=ZERO)
    penalty_paid: Mapped[Decimal] = mapped_column(Numeric, server_default=ZERO)
    penalty_accrued: Mapped[Decimal] = mapped_column(Numeric, server_default=ZERO)
    accrued_through: Mapped[date] = mapped_column(Date)


class PaymentRow(Base):
    __tablename__ = "payments"

    loan_id: Mapped[str] = mapped_column(Text, primary_key=True)
    payment_id: Mapped[str] = mapped_column(Text, primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Numeric)
    currency: Mapped[str] = mapped_column(Text)
    paid_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paid_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text)
    event_id: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RepaymentFailureRow(Base):
    __tablename__ = "repayment_failures"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    loan_id: Mapped[str] = mapped_column(Text, index=True)
    seq: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(Text)
    event_id: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ParkedEventRow(Base):
    """An event about a loan not booked yet; applied, in business-time order, when LoanBooked arrives."""

    __tablename__ = "parked_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    loan_id: Mapped[str] = mapped_column(Text, index=True)
    event_type: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event: Mapped[dict] = mapped_column(JSONB)
    parked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AgingSweepRow(Base):
    __tablename__ = "aging_sweeps"

    run_on: Mapped[date] = mapped_column(Date, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    loans_aged: Mapped[int] = mapped_column(Integer, server_default=ZERO)
    notices: Mapped[int] = mapped_column(Integer, server_default=ZERO)
