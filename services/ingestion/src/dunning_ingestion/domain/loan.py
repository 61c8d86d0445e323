"""A booked loan as ingestion keeps it: who lent, in which currency, to whom (an id only: ingestion has
no use for a borrower's name or contact data), its terms, and whether it is closed."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from dunning_ingestion.domain.rules import local_date
from dunning_ingestion.domain.terms import Terms


@dataclass(frozen=True)
class Loan:
    loan_id: str
    lender: str
    product: str
    borrower_id: str
    locale: str
    timezone: str
    region: str
    principal: Decimal
    booked_at: datetime
    terms: Terms
    # The LoanBooked whose schedule is in force: a later one (by event time) is a restructuring.
    schedule_time: datetime
    schedule_event_id: str
    closed_at: datetime | None = None
    close_reason: str | None = None

    @property
    def currency(self) -> str:
        return self.terms.currency

    def day_of(self, moment: datetime) -> date:
        return local_date(moment, self.timezone)

    @property
    def closed_on(self) -> date | None:
        return self.day_of(self.closed_at) if self.closed_at else None

    def supersedes(self, time: datetime, event_id: str) -> bool:
        """Whether a LoanBooked with this time and id is newer than the schedule in force."""
        return (time, event_id) > (self.schedule_time, self.schedule_event_id)
