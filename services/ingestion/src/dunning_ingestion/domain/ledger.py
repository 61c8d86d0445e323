"""The ledger of one loan: what each installment owes, what was paid, and the penalty it accrued.

The ledger is a pure function of the loan's terms, its payments and a date: payments are replayed in
the order they were made (not the order they arrived), so any arrival order of the same events gives
the same ledger. Between events only time moves it, which `accrue` does incrementally, exactly as the
daily sweep does in SQL.

Penalty rule: an installment whose principal is still unpaid more than `grace_days` after its due date
accrues, for every day since its due date, `round(unpaid principal x daily rate)`; a payment made
within the grace period therefore costs no penalty. Accrual stops when the loan closes."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from dunning_ingestion.domain.money import ZERO, round_money
from dunning_ingestion.domain.terms import Terms


@dataclass(frozen=True)
class Payment:
    payment_id: str
    amount: Decimal
    paid_at: datetime
    paid_on: date  # the borrower's local date of paid_at

    def order(self) -> tuple:
        return (self.paid_on, self.paid_at, self.payment_id)


@dataclass(frozen=True)
class Allocation:
    payment_id: str
    seq: int
    penalty: Decimal = ZERO
    interest: Decimal = ZERO
    principal: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.penalty + self.interest + self.principal


@dataclass
class InstallmentLedger:
    seq: int
    due_date: date
    principal_due: Decimal
    interest_due: Decimal
    principal_paid: Decimal = ZERO
    interest_paid: Decimal = ZERO
    penalty_paid: Decimal = ZERO
    penalty_accrued: Decimal = ZERO
    accrued_through: date | None = None

    def __post_init__(self) -> None:
        if self.accrued_through is None:
            self.accrued_through = self.due_date

    @property
    def principal_outstanding(self) -> Decimal:
        return self.principal_due - self.principal_paid

    @property
    def interest_outstanding(self) -> Decimal:
        return self.interest_due - self.interest_paid

    @property
    def penalty_outstanding(self) -> Decimal:
        return self.penalty_accrued - self.penalty_paid

    @property
    def outstanding(self) -> Decimal:
        return self.principal_outstanding + self.interest_outstanding + self.penalty_outstanding

    def past_grace(self, on: date, grace_days: int) -> bool:
        return (on - self.due_date).days > grace_days

    def is_overdue(self, on: date, grace_days: int) -> bool:
        return self.past_grace(on, grace_days) and self.outstanding > 0


@dataclass
class Ledger:
    installments: list[InstallmentLedger]
    credit: Decimal = ZERO
    allocations: list[Allocation] = field(default_factory=list)


def fresh_ledger(terms: Terms) -> Ledger:
    return Ledger(
        [
            InstallmentLedger(i.seq, i.due_date, i.principal_due, i.interest_due, accrued_through=i.due_date)
            for i in terms.by_age()
        ]
    )


def replay(terms: Terms, payments: list[Payment], *, as_of: date, closed_on: date | None = None) -> Ledger:
    """The ledger as of `as_of`, built from the schedule and every payment in the order they were made."""
    ledger = fresh_ledger(terms)
    end = min(as_of, closed_on) if closed_on else as_of
    for payment in sorted(payments, key=Payment.order):
        accrue(ledger, terms, through=min(payment.paid_on, end))
        apply_payment(ledger, terms, payment)
    accrue(ledger, terms, through=end)
    return ledger


def accrue(ledger: Ledger, terms: Terms, *, through: date) -> None:
    """Bring penalty up to `through`; accruing twice to the same date adds nothing."""
    # The installment's fields are read directly, not through its properties: this runs for every
    # loan an event touches, once per payment and once more at the end.
    grace, rate, digits = terms.grace_days, terms.penalty_rate_daily, terms.minor_digits
    for installment in ledger.installments:
        unpaid = installment.principal_due - installment.principal_paid
        if unpaid <= 0 or (through - installment.due_date).days <= grace:
            continue
        days = (through - installment.accrued_through).days
        if days <= 0:
            continue
        daily = round_money(unpaid * rate, digits)
        installment.penalty_accrued += daily * days
        installment.accrued_through = through


def apply_payment(ledger: Ledger, terms: Terms, payment: Payment) -> None:
    """Oldest installment first; within one, the lender's waterfall; what is left is held as credit."""
    remaining = payment.amount
    for installment in ledger.installments:
        if remaining <= 0:
            break
        allocation, remaining = settle(installment, terms.waterfall, payment.payment_id, remaining)
        if allocation.total > 0:
            ledger.allocations.append(allocation)
    ledger.credit += remaining


def settle(installment: InstallmentLedger, waterfall: tuple[str, ...], payment_id: str, amount: Decimal):
    """Pay as much of one installment as `amount` covers; returns the allocation and what is left."""
    parts: dict[str, Decimal] = {}
    for part in waterfall:
        owed, paid_so_far = _ATTRIBUTES[part]
        paid_before = getattr(installment, paid_so_far)
        paid = min(amount, getattr(installment, owed) - paid_before)
        if paid > 0:
            setattr(installment, paid_so_far, paid_before + paid)
            amount -= paid
            parts[part] = paid
    return Allocation(payment_id, installment.seq, **parts), amount


# Per part, what is owed and what was paid of it: outstanding is their difference (the properties'
# arithmetic, without their frames).
_ATTRIBUTES = {"penalty": ("penalty_accrued", "penalty_paid"), "interest": ("interest_due", "interest_paid"),
               "principal": ("principal_due", "principal_paid")}
