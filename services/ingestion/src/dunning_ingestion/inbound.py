"""Bus events in, domain objects out: where an inbound event's fields are checked against the loan."""

from dataclasses import replace
from operator import attrgetter

from dunning_contracts import CloudEvent
from dunning_contracts.events import Installment, LoanBooked, LoanClosed, RepaymentReceived
from dunning_ingestion.domain.ledger import Payment
from dunning_ingestion.domain.loan import Loan
from dunning_ingestion.domain.money import ZERO, minor_digits
from dunning_ingestion.domain.policy import LedgerPolicy
from dunning_ingestion.domain.rules import (
    check_currency, check_positive, check_precision, check_schedule_has_amounts, fits_precision, local_date, zone,
)
from dunning_ingestion.domain.terms import ScheduledInstallment, Terms, contract_rate_annual


def loan_from_booking(event: CloudEvent, data: LoanBooked, policy: LedgerPolicy, previous: Loan | None) -> Loan:
    """The loan a LoanBooked describes; a loan already known keeps its closure."""
    zone(data.borrower.timezone)
    terms = _terms(data, policy)
    borrower = data.borrower
    return Loan(
        loan_id=data.loan_id,
        lender=data.lender,
        product=data.product,
        borrower_id=borrower.borrower_id,
        locale=borrower.locale,
        timezone=borrower.timezone,
        region=borrower.region,
        principal=data.principal,
        booked_at=data.booked_at,
        terms=terms,
        schedule_time=event.time,
        schedule_event_id=event.id,
        closed_at=previous.closed_at if previous else None,
        close_reason=previous.close_reason if previous else None,
    )


def _terms(data: LoanBooked, policy: LedgerPolicy) -> Terms:
    digits = minor_digits(data.currency)
    check_precision(data.principal, digits, data.currency, field="data.principal")
    _check_installment_amounts(data, digits)
    installments = tuple(
        sorted(
            (ScheduledInstallment(i.seq, i.due_date, i.principal_due, i.interest_due) for i in data.installments),
            key=_BY_SEQ,
        )
    )
    interest_rate = contract_rate_annual(installments, local_date(data.booked_at, data.borrower.timezone))
    return Terms(
        currency=data.currency,
        minor_digits=digits,
        grace_days=policy.grace_days(data.grace_days),
        penalty_rate_daily=policy.penalty_rate(data.penalty_rate_daily, interest_rate),
        installments=installments,
        waterfall=policy.waterfall,
    )


def _check_installment_amounts(data: LoanBooked, digits: int) -> None:
    total_due = ZERO
    for index, installment in enumerate(data.installments):
        principal, interest = installment.principal_due, installment.interest_due
        if not (fits_precision(principal, digits) and fits_precision(interest, digits)):
            _refuse_imprecise(installment, index, digits, data.currency)
        total_due += principal + interest
    check_schedule_has_amounts(total_due)


def _refuse_imprecise(installment: Installment, index: int, digits: int, currency: str) -> None:
    # Field names are formatted only for an amount refused: every booking checks two per installment.
    check_precision(installment.principal_due, digits, currency, field=f"data.installments.{index}.principal_due")
    check_precision(installment.interest_due, digits, currency, field=f"data.installments.{index}.interest_due")


_BY_SEQ = attrgetter("seq")


def payment_of(loan: Loan, data: RepaymentReceived) -> Payment:
    check_currency(loan.currency, data.currency)
    check_positive(data.amount, field="data.amount")
    check_precision(data.amount, loan.terms.minor_digits, loan.currency, field="data.amount")
    return Payment(data.payment_id, data.amount, data.paid_at, loan.day_of(data.paid_at))


def closed(loan: Loan, data: LoanClosed) -> Loan:
    """The loan after a LoanClosed: the earliest closure counts, whatever order closures arrive in."""
    if loan.closed_at is not None and loan.closed_at <= data.closed_at:
        return loan
    return replace(loan, closed_at=data.closed_at, close_reason=data.reason)
