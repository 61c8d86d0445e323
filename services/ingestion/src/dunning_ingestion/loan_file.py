"""Everything the ledger holds on one loan while a batch of events is applied to it in memory.

A batch loads the files of its loans in a few queries, the handlers change the files, each changed
loan's ledger is rebuilt once, and the files are written back in a few statements: the number of round
trips depends on the batch, not on the number of events in it."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from dunning_contracts import CloudEvent
from dunning_ingestion.domain.figures import Figures, figures_of
from dunning_ingestion.domain.ledger import Ledger, Payment, replay
from dunning_ingestion.domain.loan import Loan
from dunning_ingestion.domain.notices import Notice, notice_for, reported_after
from dunning_platform.errors import DomainError


@dataclass(frozen=True)
class Parked:
    """An event about a loan not booked yet, waiting for its LoanBooked."""

    occurred_at: datetime
    order: int
    event: dict


@dataclass(frozen=True)
class RecordedPayment:
    payment: Payment
    currency: str
    source: str
    event_id: str


@dataclass(frozen=True)
class RecordedFailure:
    seq: int
    reason: str
    failed_at: datetime
    source: str
    event_id: str


@dataclass
class LoanFile:
    loan_id: str
    loan: Loan | None = None
    reported: Decimal = Decimal("0")  # the overdue amount the bus last heard; zero after a clearance
    payments: dict[str, Payment] = field(default_factory=dict)
    parked: list[Parked] = field(default_factory=list)  # stored, from earlier transactions
    # Installment rows as stored, by seq: only those the rebuilt ledger changes are written back.
    stored_installments: dict[int, tuple] = field(default_factory=dict)
    # What this batch adds, written back at its end:
    new_payments: list[RecordedPayment] = field(default_factory=list)
    new_failures: list[RecordedFailure] = field(default_factory=list)
    new_parked: list[Parked] = field(default_factory=list)
    dead_letters: list[tuple[CloudEvent, DomainError]] = field(default_factory=list)
    unparked: bool = False
    restructured: bool = False
    changed: bool = False
    ledger: Ledger | None = None
    figures: Figures | None = None

    def park(self, event: CloudEvent, occurred_at: datetime) -> bool:
        """Keep the event for later when the loan is not booked yet; True when it was parked."""
        if self.loan is not None:
            return False
        order = len(self.parked) + len(self.new_parked)
        self.new_parked.append(Parked(occurred_at, order, event.model_dump(mode="json")))
        return True

    def take_parked(self) -> list[dict]:
        """The waiting events, in the order they happened; they leave the parking for good."""
        waiting = sorted(self.parked + self.new_parked, key=lambda p: (p.occurred_at, p.order))
        self.unparked = self.unparked or bool(self.parked)
        self.parked, self.new_parked = [], []
        return [p.event for p in waiting]

    def record_payment(self, recorded: RecordedPayment) -> None:
        self.payments[recorded.payment.payment_id] = recorded.payment
        self.new_payments.append(recorded)
        self.changed = True

    def settle(self, now: datetime) -> Notice | None:
        """Rebuild the ledger as of today in the borrower's zone; the notice the bus must hear, if any."""
        loan = self.loan
        today = loan.day_of(now)
        self.ledger = replay(loan.terms, list(self.payments.values()), as_of=today, closed_on=loan.closed_on)
        self.figures = figures_of(self.ledger, loan.terms, today=today, closed=loan.closed_at is not None)
        notice = notice_for(self.reported, self.figures, restructured=self.restructured)
        self.reported = reported_after(notice, self.reported)
        return notice
