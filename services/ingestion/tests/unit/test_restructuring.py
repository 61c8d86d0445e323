"""A second LoanBooked that changes any term of a loan is a restructuring, whichever term it is."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dunning_contracts import CloudEvent, parse_data
from dunning_ingestion.domain.policy import Policies
from dunning_ingestion.handlers import on_loan_booked
from dunning_ingestion.loan_file import LoanFile

FIRST = datetime(2026, 1, 1, tzinfo=UTC)
TERMS = {"grace_days": 0, "penalty_rate_daily": "0.0005"}


def booking(time: datetime, **changes) -> CloudEvent:
    data = {
        "loan_id": "loan-1", "lender": "acme", "product": "p", "currency": "CNY", "principal": "1000",
        "booked_at": "2025-01-10T00:00:00+00:00", "borrower": {"borrower_id": "b1", "name": "n", "timezone": "Asia/Shanghai"},
        "installments": [{"seq": 1, "due_date": "2026-01-10", "principal_due": "1000", "interest_due": "50"}],
    } | TERMS | changes
    raw = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "urn:test", "type": "LoanBooked", "time": time.isoformat(), "subject": "loan-1", "data": data}
    return CloudEvent.model_validate(raw)


def rebooked(**changes) -> LoanFile:
    file = LoanFile("loan-1")
    for cloud_event in (booking(FIRST), booking(FIRST + timedelta(hours=1), **changes)):
        on_loan_booked(file, cloud_event, parse_data(cloud_event), Policies())
    return file


@pytest.mark.parametrize("changes", [{"grace_days": 30}, {"penalty_rate_daily": "0.0003"}])
def test_new_grace_or_penalty_terms_on_the_same_schedule_are_a_restructuring(changes):
    assert rebooked(**changes).restructured


def test_the_same_terms_booked_again_are_not_a_restructuring():
    assert not rebooked().restructured
