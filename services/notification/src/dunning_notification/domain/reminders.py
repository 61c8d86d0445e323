"""The life of one reminder: what happens after a refusal, a failure or a success."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from dunning_notification.domain.guard import Suppressed

PENDING = "pending"
SENT = "sent"
DELIVERED = "delivered"
FAILED = "failed"
SUPPRESSED = "suppressed"
FINAL = frozenset({SENT, DELIVERED, FAILED, SUPPRESSED})


UNDELIVERED = "undelivered"


@dataclass(frozen=True)
class DeliveryReceipt:
    """A provider's word on a message it accepted: it reached the borrower (a call: was answered) or not."""

    provider: str
    message_id: str
    reference: str | None
    status: str
    reason: str | None
    occurred_at: datetime | None


def after_receipt(status: str, receipt: str) -> str | None:
    """The status a delivery receipt moves a reminder to, or None when it changes nothing.

    Only a sent reminder moves: receipts may come twice or out of order, and the first one decides."""
    if status != SENT or receipt not in (DELIVERED, FAILED):
        return None
    return receipt


def deferral(verdict: Suppressed, expires_at: datetime) -> datetime | None:
    """When to try a suppressed reminder again: the rule's next allowed moment, if it comes in time."""
    if verdict.retry_at is None or verdict.retry_at >= expires_at:
        return None
    return verdict.retry_at


def retry_after_failure(now: datetime, attempt: int, base_seconds: float, rng: random.Random | None = None) -> datetime:
    """Exponential backoff with full jitter, so a provider's recovery is not met by a thundering herd."""
    ceiling = base_seconds * 2 ** max(attempt - 1, 0)
    jittered = (rng or random).uniform(ceiling / 2, ceiling)
    return now + timedelta(seconds=jittered)


# The scheduler's reminders that belong to no case (before a due date, a bounced auto-debit) carry this.
CASELESS = "pre-due:"


@dataclass(frozen=True)
class Clearance:
    """A cure of the loan: the cases it closed, and when."""

    at: datetime
    cases: frozenset[str] = frozenset()

    def covers(self, case_id: str, requested_at: datetime, not_before: datetime) -> bool:
        """Whether a reminder belongs to the cured episode: one of its cases, or planned before the cure.

        A reminder of no case (the next installment's pre-due notice) is about what falls due next, not
        about the debt the cure settled."""
        if case_id.startswith(CASELESS):
            return False
        return case_id in self.cases or min(requested_at, not_before) <= self.at


@dataclass(frozen=True)
class LoanState:
    """What the dispatcher knows of a loan: the figures a reminder quotes, a cure, a scheduler's hold."""

    figures: "LoanFigures"
    clearance: Clearance | None = None
    held_until: datetime | None = None


@dataclass(frozen=True)
class LoanFigures:
    lender: str | None = None
    currency: str | None = None
    overdue_amount: Decimal | None = None
    days_past_due: int | None = None


def format_amount(amount: Decimal | None, currency: str | None, locale: str) -> str | None:
    if amount is None:
        return None
    figure = f"{amount.quantize(Decimal('0.01')):,}"
    if locale == "zh-CN" and currency in (None, "CNY"):
        return f"{figure}元"
    return f"{currency or ''} {figure}".strip()


def message_context(name: str, loan_id: str, figures: LoanFigures, locale: str, stage: str) -> dict:
    """What a template may use; all keys are always present so a template never meets a missing name."""
    return {
        "name": name,
        "lender": figures.lender or ("贷款机构" if locale == "zh-CN" else "your lender"),
        "loan_ref": loan_id[-4:],
        "amount": format_amount(figures.overdue_amount, figures.currency, locale),
        "days_past_due": figures.days_past_due,
        "stage": stage,
    }


def voicemail_context(figures: LoanFigures, locale: str, callback_number: str | None) -> dict:
    """All a voice template gets: who calls and where to call back, never the borrower's name or the debt."""
    return {
        "lender": figures.lender or ("贷款机构" if locale == "zh-CN" else "your lender"),
        "callback_number": callback_number,
    }
