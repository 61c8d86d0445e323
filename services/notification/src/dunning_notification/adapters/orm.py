"""The notification schema: borrower contact book (encrypted), loan figures, preferences, reminders and
the history of every contact attempt."""

from datetime import datetime, time
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Identity, Index, LargeBinary, Numeric, Text, Time, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dunning_messaging.tables import messaging_tables
from dunning_platform.db import service_metadata

SCHEMA = "notification"
metadata = service_metadata(SCHEMA)
tables = messaging_tables(metadata)

Aware = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = metadata


class Borrower(Base):
    __tablename__ = "borrowers"

    borrower_id: Mapped[str] = mapped_column(Text, primary_key=True)
    # Sealed tokens (adapters/vault.py): names, phones and e-mails never rest in clear text.
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    locale: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(Text)
    region: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(Aware, server_default=func.now())


class Loan(Base):
    __tablename__ = "loans"

    loan_id: Mapped[str] = mapped_column(Text, primary_key=True)
    borrower_id: Mapped[str] = mapped_column(Text, index=True)
    lender: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    overdue_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    days_past_due: Mapped[int | None]
    figures_as_of: Mapped[datetime | None] = mapped_column(Aware)
    cleared_at: Mapped[datetime | None] = mapped_column(Aware)
    # The cases the cure closed: their reminders stay suppressed, however late they arrive.
    cleared_cases: Mapped[list[str] | None] = mapped_column(ARRAY(Text))


class LoanHold(Base):
    """A pause the scheduler placed on a case (dispute, complaint, ...): no reminder of the loan goes
    until it is released or expires."""

    __tablename__ = "loan_holds"

    hold_id: Mapped[str] = mapped_column(Text, primary_key=True)
    loan_id: Mapped[str] = mapped_column(Text, index=True)
    case_id: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(Aware)
    released_at: Mapped[datetime | None] = mapped_column(Aware)


class ContactPreferences(Base):
    __tablename__ = "contact_preferences"

    borrower_id: Mapped[str] = mapped_column(Text, primary_key=True)
    opted_out: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    do_not_contact: Mapped[bool] = mapped_column(server_default=text("false"))
    preferred_channel: Mapped[str | None] = mapped_column(Text)
    contact_from: Mapped[time | None] = mapped_column(Time)
    contact_until: Mapped[time | None] = mapped_column(Time)
    hold_until: Mapped[datetime | None] = mapped_column(Aware)
    updated_at: Mapped[datetime] = mapped_column(Aware, server_default=func.now())


class Reminder(Base):
    __tablename__ = "reminders"

    reminder_id: Mapped[str] = mapped_column(Text, primary_key=True)
    case_id: Mapped[str] = mapped_column(Text)
    loan_id: Mapped[str] = mapped_column(Text, index=True)
    borrower_id: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)
    template: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(Text)
    not_before: Mapped[datetime] = mapped_column(Aware)
    expires_at: Mapped[datetime] = mapped_column(Aware)
    status: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(Aware)
    # Set while a dispatcher holds the reminder; once it passes, another may take it (a crash mid-send).
    lease_until: Mapped[datetime | None] = mapped_column(Aware)
    provider: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(Text)
    # Set when a provider may have taken the message without saying so; retries then go only there.
    pinned_provider: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(Aware)
    sent_at: Mapped[datetime | None] = mapped_column(Aware)
    updated_at: Mapped[datetime] = mapped_column(Aware)

    __table_args__ = (
        Index("ix_reminders_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_reminders_provider_message", "provider", "provider_message_id"),
        Index("ix_reminders_pending_borrower", "borrower_id", postgresql_where=text("status = 'pending'")),
        Index(
            "ix_reminders_leased_borrower",
            "borrower_id",
            postgresql_where=text("status = 'pending' AND lease_until IS NOT NULL"),
        ),
    )


class ContactAttempt(Base):
    __tablename__ = "contact_attempts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    reminder_id: Mapped[str] = mapped_column(Text, index=True)
    loan_id: Mapped[str] = mapped_column(Text)
    borrower_id: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(Aware)
    outcome: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(Text)
    # The jurisdiction's retention period decides when this row may be purged.
    retain_until: Mapped[datetime] = mapped_column(Aware)

    __table_args__ = (
        Index("ix_contact_attempts_borrower_time", "borrower_id", "channel", "occurred_at"),
        Index("ix_contact_attempts_loan", "loan_id", "retain_until"),
    )
