"""The tables of the `legal` schema. Everything here was learnt from bus events; nothing is read from
another service's schema."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Index, Integer, LargeBinary, Numeric, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dunning_messaging import messaging_tables
from dunning_platform.db import service_metadata

SCHEMA = "legal"
metadata = service_metadata(SCHEMA)
tables = messaging_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class Partner(Base):
    """A law firm or collection agency that takes referrals."""

    __tablename__ = "partners"

    partner_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    regions: Mapped[list[str]] = mapped_column(ARRAY(Text))
    capacity: Mapped[int] = mapped_column(Integer)
    fee_terms: Mapped[dict[str, Any]] = mapped_column(JSONB)
    contact_email: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    last_assigned_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Loan(Base):
    """What the bus told us about a loan: its booking facts and its latest overdue snapshot."""

    __tablename__ = "loans"

    loan_id: Mapped[str] = mapped_column(Text, primary_key=True)
    borrower_id: Mapped[str | None] = mapped_column(Text)
    lender: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str | None] = mapped_column(Text)
    booking: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    booking_recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    borrower_name_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    snapshot_as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OverdueEntry(Base):
    """One LoanOverdue or OverdueCleared, kept for the evidence file."""

    __tablename__ = "overdue_history"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    loan_id: Mapped[str] = mapped_column(Text, index=True)
    event_type: Mapped[str] = mapped_column(Text)
    event_id: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)


class ContactAttempt(Base):
    """One contact with the borrower: a ReminderSent (a reminder sent, delivered, failed or suppressed) or a
    ContactAttempted (an agent's call or field visit and its outcome)."""

    __tablename__ = "contact_attempts"
    __table_args__ = (
        CheckConstraint(
            "kind <> 'reminder' OR (reminder_id IS NOT NULL AND status IS NOT NULL)",
            name="reminder_has_id_and_status",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    loan_id: Mapped[str] = mapped_column(Text, index=True)
    # reminder, agent_call or field_visit (domain/contacts.py)
    kind: Mapped[str] = mapped_column(Text, default="reminder", server_default="reminder")
    reminder_id: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(Text)
    # An agent's contact: the task it completed (unique), its case, the agent and what came of it.
    task_id: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[str | None] = mapped_column(Text)
    agent_id: Mapped[str | None] = mapped_column(Text)
    connected: Mapped[bool | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_id: Mapped[str] = mapped_column(Text)


class CaseEventEntry(Base):
    """One case event (a promise, hold or repayment plan made or ended), kept for the evidence file."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    loan_id: Mapped[str] = mapped_column(Text, index=True)
    case_id: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(Text)
    event_id: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)


class LegalCase(Base):
    """A referral of one collection case to a partner."""

    __tablename__ = "legal_cases"

    legal_case_id: Mapped[str] = mapped_column(Text, primary_key=True)
    case_id: Mapped[str] = mapped_column(Text, unique=True)
    loan_id: Mapped[str] = mapped_column(Text, index=True)
    borrower_id: Mapped[str] = mapped_column(Text)
    lender: Mapped[str | None] = mapped_column(Text, index=True)
    region: Mapped[str] = mapped_column(Text)
    # None while no partner was available; see assign_waiting in referrals.py.
    partner_id: Mapped[str | None] = mapped_column(Text, index=True)
    status: Mapped[str] = mapped_column(Text, index=True)
    escalation: Mapped[dict[str, Any]] = mapped_column(JSONB)
    overdue_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accept_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Who moved a referral, when, from what to what; assignments are audited here too."""

    __tablename__ = "audit_trail"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    legal_case_id: Mapped[str] = mapped_column(Text, ForeignKey("legal_cases.legal_case_id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str] = mapped_column(Text)
    partner_id: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class PartnerNotice(Base):
    """Something a partner must be told (a new referral, a withdrawal, a re-assignment away)."""

    __tablename__ = "partner_notices"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    legal_case_id: Mapped[str] = mapped_column(Text, ForeignKey("legal_cases.legal_case_id"), index=True)
    partner_id: Mapped[str] = mapped_column(Text, index=True)
    kind: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


Index(
    "uq_contact_attempts_task_id",
    ContactAttempt.task_id,
    unique=True,
    postgresql_where=ContactAttempt.task_id.is_not(None),
)
Index("ix_legal_cases_awaiting_acceptance", LegalCase.accept_by, postgresql_where=LegalCase.status == "referred")
Index(
    "ix_legal_cases_awaiting_partner",
    LegalCase.opened_at,
    postgresql_where=(LegalCase.partner_id.is_(None)) & (LegalCase.status == "referred"),
)
