"""One handler per inbound event type, for Kafka and HTTP alike, registered in HANDLERS.

A handler applies one event to its loan's file in memory: it checks first and changes the file only
when the event is acceptable, so a refused event (DomainError) leaves the file as it was. The batch
(batch.py) loads the files, rebuilds changed ledgers, publishes and writes back. Handlers never commit."""

from dunning_contracts import CloudEvent, parse_data
from dunning_contracts.events import EventData, LoanBooked, LoanClosed, RepaymentFailed, RepaymentReceived
from dunning_ingestion.domain.loan import Loan
from dunning_ingestion.domain.policy import Policies
from dunning_ingestion.domain.rules import FieldInvalid, check_installment_exists
from dunning_ingestion.inbound import closed, loan_from_booking, payment_of
from dunning_ingestion.loan_file import LoanFile, RecordedFailure, RecordedPayment
from dunning_messaging import Batched
from dunning_platform.errors import DomainError


def on_loan_booked(file: LoanFile, event: CloudEvent, data: LoanBooked, policies: Policies) -> None:
    previous = file.loan
    if previous is not None and not previous.supersedes(event.time, event.id):
        return  # an older schedule than the one in force, arriving late
    if previous is not None and previous.lender != data.lender:
        raise FieldInvalid(f"loan {data.loan_id} is booked by another lender", field="data.lender")
    loan = loan_from_booking(event, data, policies.for_lender(data.lender), previous)
    file.restructured = file.restructured or changes_terms(previous, loan)
    file.loan, file.changed = loan, True
    apply_parked(file, policies)


def changes_terms(previous: Loan | None, loan: Loan) -> bool:
    """Any new term (schedule, grace, penalty rate) is a restructuring: a loan it makes current was not paid."""
    return previous is not None and previous.terms != loan.terms


def on_repayment_received(file: LoanFile, event: CloudEvent, data: RepaymentReceived, policies: Policies) -> None:
    if file.park(event, data.paid_at):
        return
    payment = payment_of(file.loan, data)
    known = file.payments.get(payment.payment_id)
    if known is None:
        file.record_payment(RecordedPayment(payment, data.currency, event.source, event.id))
    elif known.amount != payment.amount:
        raise FieldInvalid(f"payment {data.payment_id} was recorded before with another amount", field="data.payment_id")


def on_repayment_failed(file: LoanFile, event: CloudEvent, data: RepaymentFailed, policies: Policies) -> None:
    if file.park(event, data.failed_at):
        return
    check_installment_exists({i.seq for i in file.loan.terms.installments}, data.seq)
    # A bounced debit changes no figure; it is kept for the record.
    file.new_failures.append(RecordedFailure(data.seq, data.reason, data.failed_at, event.source, event.id))


def on_loan_closed(file: LoanFile, event: CloudEvent, data: LoanClosed, policies: Policies) -> None:
    if file.park(event, data.closed_at):
        return
    after = closed(file.loan, data)
    if after is not file.loan:
        file.loan, file.changed = after, True


HANDLERS = {
    "LoanBooked": on_loan_booked,
    "RepaymentReceived": on_repayment_received,
    "RepaymentFailed": on_repayment_failed,
    "LoanClosed": on_loan_closed,
}


def apply_parked(file: LoanFile, policies: Policies) -> None:
    """Apply what waited for this loan, in the order it happened; a parked event the loan refuses
    (another currency, an unknown installment) goes to the DLQ with its reason, the rest still apply."""
    for stored in file.take_parked():
        event = CloudEvent.model_validate(stored)
        try:
            HANDLERS[event.type](file, event, parse_data(event), policies)
        except DomainError as error:
            file.dead_letters.append((event, error))


async def enqueue(uow, events: list[tuple[CloudEvent, EventData]]) -> None:
    """What the consumer hands over: the batch applies them all when the unit of work commits."""
    for event, data in events:
        uow.batch.add(event, data)


# One entry for every type: a whole consumer batch is one run, one call, not a call (and span) per event.
ENQUEUE = Batched(enqueue)
CONSUMED = {type_name: ENQUEUE for type_name in HANDLERS}
