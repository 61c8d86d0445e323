"""Between database rows and domain objects: a loan row to a Loan, loan files to rows."""

from collections.abc import Mapping

from dunning_ingestion.domain.loan import Loan
from dunning_ingestion.domain.terms import ScheduledInstallment, Terms
from dunning_ingestion.loan_file import LoanFile


def loan_of(row: Mapping, schedule: list[ScheduledInstallment]) -> Loan:
    terms = Terms(
        currency=row["currency"],
        minor_digits=row["minor_digits"],
        grace_days=row["grace_days"],
        penalty_rate_daily=row["penalty_rate_daily"],
        installments=tuple(schedule),
        waterfall=tuple(row["waterfall"].split(",")),
    )
    return Loan(
        loan_id=row["loan_id"],
        lender=row["lender"],
        product=row["product"],
        borrower_id=row["borrower_id"],
        locale=row["locale"],
        timezone=row["timezone"],
        region=row["region"],
        principal=row["principal"],
        booked_at=row["booked_at"],
        terms=terms,
        schedule_time=row["schedule_time"],
        schedule_event_id=row["schedule_event_id"],
        closed_at=row["closed_at"],
        close_reason=row["close_reason"],
    )


def loan_rows(files: list[LoanFile]) -> list[tuple]:
    """One row of `loans` per file, in the column order of the upsert."""
    return [_loan_row(f) for f in files]


def _loan_row(file: LoanFile) -> tuple:
    loan, terms, figures = file.loan, file.loan.terms, file.figures
    return (
        loan.loan_id, loan.lender, loan.product, terms.currency, terms.minor_digits, loan.principal,
        loan.booked_at, loan.borrower_id, loan.locale, loan.timezone, loan.region, terms.grace_days,
        terms.penalty_rate_daily, ",".join(terms.waterfall), loan.schedule_time, loan.schedule_event_id,
        loan.closed_at, loan.close_reason, figures.as_of, figures.days_past_due, figures.overdue_since,
        figures.overdue_amount, figures.penalty_accrued, figures.penalty_outstanding, figures.outstanding_balance,
        figures.credit_balance, figures.next_review_on, file.reported,
    )


def installment_rows(files: list[LoanFile]) -> list[tuple]:
    """The installment rows that differ from what is stored (all of them after a restructuring)."""
    return [(f.loan_id, *row) for f in files for row in _changed_installments(f)]


def _changed_installments(file: LoanFile) -> list[tuple]:
    stored = {} if file.restructured else file.stored_installments
    rows = [
        (
            i.seq, i.due_date, i.principal_due, i.interest_due, i.principal_paid, i.interest_paid,
            i.penalty_paid, i.penalty_accrued, i.accrued_through,
        )
        for i in file.ledger.installments
    ]
    return [row for row in rows if stored.get(row[0]) != row]
