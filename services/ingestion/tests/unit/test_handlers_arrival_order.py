"""The real handlers on a loan's file: whatever order its events arrive in, and however they are cut
into batches, the ledger ends the same (payments waiting for their loan, restructurings, closures)."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from dunning_contracts import CloudEvent, parse_data
from dunning_ingestion.domain.policy import Policies
from dunning_ingestion.handlers import HANDLERS
from dunning_ingestion.loan_file import LoanFile
from dunning_platform.errors import DomainError

LOAN = "loan-1"
START = date(2026, 1, 1)
NOW = datetime(2026, 4, 1, 4, tzinfo=UTC)


def event(type_: str, data: dict, time: datetime = NOW) -> CloudEvent:
    raw = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "urn:test", "type": type_, "time": time.isoformat(), "subject": LOAN, "data": data}
    return CloudEvent.model_validate(raw)


def booking(installments: list[tuple[int, int, int]], version: int) -> CloudEvent:
    schedule = [
        {"seq": n, "due_date": (START + timedelta(days=offset)).isoformat(), "principal_due": str(p), "interest_due": str(i)}
        for n, (offset, p, i) in enumerate(installments, start=1)
    ]
    data = {
        "loan_id": LOAN, "lender": "acme", "product": "p", "currency": "CNY", "principal": "1000",
        "booked_at": "2025-12-01T00:00:00+00:00", "grace_days": 2, "penalty_rate_daily": "0.001",
        "borrower": {"borrower_id": "b1", "name": "n", "timezone": "Asia/Shanghai"}, "installments": schedule,
    }
    return event("LoanBooked", data, time=NOW - timedelta(days=30 - version))


schedules = st.lists(
    st.tuples(st.integers(0, 80), st.integers(0, 2000), st.integers(0, 100)), min_size=1, max_size=4
).filter(lambda s: sum(p + i for _, p, i in s) > 0)


@st.composite
def histories(draw) -> list[CloudEvent]:
    events = [booking(draw(schedules), version=0)]
    if draw(st.booleans()):
        events.append(booking(draw(schedules), version=1))
    for n, (cents, offset, currency) in enumerate(draw(st.lists(st.tuples(st.integers(1, 150_000), st.integers(0, 90), st.sampled_from(["CNY", "CNY", "USD"])), max_size=5))):
        paid_at = datetime.combine(START + timedelta(days=offset), datetime.min.time(), UTC)
        data = {"loan_id": LOAN, "payment_id": f"p{n}", "amount": str(Decimal(cents).scaleb(-2)), "currency": currency, "paid_at": paid_at.isoformat()}
        events.append(event("RepaymentReceived", data))
    if draw(st.booleans()):
        closed_at = datetime.combine(START + timedelta(days=draw(st.integers(0, 90))), datetime.min.time(), UTC)
        events.append(event("LoanClosed", {"loan_id": LOAN, "reason": "settled", "closed_at": closed_at.isoformat()}))
    if draw(st.booleans()):
        events.append(event("RepaymentFailed", {"loan_id": LOAN, "seq": draw(st.integers(1, 5)), "reason": "bounced", "failed_at": NOW.isoformat()}))
    return events


POLICY = Policies()


def arrive(events: list[CloudEvent], cuts: set[int]) -> LoanFile:
    """Apply the events in this order, committing a batch after each index in `cuts` and at the end."""
    file = LoanFile(LOAN)
    for index, cloud_event in enumerate(events):
        try:
            HANDLERS[cloud_event.type](file, cloud_event, parse_data(cloud_event), POLICY)
        except DomainError:
            pass  # the consumer would dead-letter it; it must leave the file as it was
        if index in cuts or index == len(events) - 1:
            commit(file)
    return file


def commit(file: LoanFile) -> None:
    """What the store does at the end of a batch, in memory."""
    if file.changed:
        file.settle(NOW)
    file.parked += file.new_parked
    file.new_parked, file.new_payments, file.new_failures, file.dead_letters = [], [], [], []
    file.changed = file.restructured = file.unparked = False


def final_state(file: LoanFile) -> tuple:
    loan, ledger = file.loan, file.ledger
    return loan.terms, loan.closed_at, file.reported, ledger.installments, ledger.credit, file.figures


@settings(max_examples=500, deadline=None)
@given(histories(), st.randoms(), st.sets(st.integers(0, 9)))
def test_any_arrival_order_of_the_same_events_yields_the_same_ledger(events, random, cuts):
    shuffled = list(events)
    random.shuffle(shuffled)
    assert final_state(arrive(shuffled, cuts)) == final_state(arrive(events, set()))
