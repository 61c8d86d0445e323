"""A batch of inbound events applied together: the files of its loans are loaded in a few queries,
each event goes to its handler, each changed loan's ledger is rebuilt once and announced, and the
files are written back in a few statements.

Within one batch a loan's notices are coalesced: the bus hears its figures after the whole batch."""

from typing import NamedTuple

from dunning_contracts import CloudEvent, Topics, dlq_topic
from dunning_contracts.events import EventData
from dunning_ingestion.adapters.ledger_store import LedgerStore
from dunning_ingestion.domain.policy import Policies
from dunning_ingestion.domain.rules import FieldInvalid
from dunning_ingestion.handlers import HANDLERS
from dunning_ingestion.loan_file import LoanFile
from dunning_ingestion.outbound import announce
from dunning_platform.errors import DomainError


class Pending(NamedTuple):  # one per event: a tuple is built at a third of a frozen dataclass's cost
    event: CloudEvent
    data: EventData
    lender: str | None = None  # set when the sender may only touch this lender's loans


class LedgerBatch:
    def __init__(self, policies: Policies) -> None:
        self.policies = policies
        self.pending: list[Pending] = []

    def add(self, event: CloudEvent, data: EventData, *, lender: str | None = None) -> None:
        self.pending.append(Pending(event, data, lender))

    async def apply(self, uow, *, keep_going: bool = False) -> list[DomainError | None]:
        """Apply what was added. A refused event raises its DomainError, unless `keep_going`: then its
        error is returned in its place and the batch goes on without it (HTTP answers per item)."""
        pending, self.pending = self.pending, []
        if not pending:
            return []
        store = LedgerStore(uow.session)
        booked = {p.data.loan_id for p in pending if p.event.type == "LoanBooked"}
        files = await store.load(sorted({p.data.loan_id for p in pending}), parked_for=booked)
        outcomes = [self._handle(files[p.data.loan_id], p, keep_going) for p in pending]
        self._announce(uow, files.values())
        await store.save(files.values())
        return outcomes

    def _handle(self, file: LoanFile, pending: Pending, keep_going: bool) -> DomainError | None:
        try:
            _check_lender(file, pending)
            HANDLERS[pending.event.type](file, pending.event, pending.data, self.policies)
        except DomainError as error:
            if not keep_going:
                raise
            return error
        return None

    def _announce(self, uow, files) -> None:
        now = uow.clock.now()
        for file in files:
            if file.changed:
                announce(uow, file.loan, file.settle(now), now)
            for event, error in file.dead_letters:
                dead_letter_parked(uow, file.loan_id, event, error)


def _check_lender(file: LoanFile, pending: Pending) -> None:
    if pending.lender and file.loan is not None and file.loan.lender != pending.lender:
        raise FieldInvalid(f"loan {file.loan_id} belongs to another lender", field="data.loan_id")


def dead_letter_parked(uow, loan_id: str, event: CloudEvent, error: DomainError) -> None:
    """A parked event its loan refused on arrival: to the DLQ with the reason, like a refused live event."""
    headers = [
        ("dlq-reason", "rejected"),
        ("dlq-error", str(error)),
        ("dlq-service", "ingestion"),
        ("dlq-original-topic", Topics.REPAYMENT_EVENTS),
        ("dlq-parked", "true"),
    ]
    uow.publish_raw(
        dlq_topic(Topics.REPAYMENT_EVENTS), loan_id.encode(), event.to_json_bytes(), headers, event_type=event.type, event_id=event.id
    )
