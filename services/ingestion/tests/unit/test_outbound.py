"""The notices are written to JSON by hand, for speed: they must be exactly what the contract's models give."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from dunning_contracts import CloudEvent, Topics, new_event
from dunning_contracts.events import LoanOverdue, OverdueCleared
from dunning_ingestion.outbound import new_event_id, overdue_data, publish_cleared, publish_overdue

NOW = datetime(2026, 1, 20, 2, 0, 0, 123456, tzinfo=UTC)


class RecordingUnitOfWork:
    source = "urn:dunning:ingestion"

    def __init__(self) -> None:
        self.published: list[dict] = []

    def publish_raw(self, topic, key, value, headers=(), *, event_type=None, event_id=None) -> None:
        self.published.append(
            {"topic": topic, "key": key, "value": value, "headers": list(headers), "type": event_type, "id": event_id}
        )


def overdue() -> dict:
    return overdue_data(
        loan_id="L-1", borrower_id="B-1", lender="acme", product="cash", currency="CNY",
        overdue_since=date(2026, 1, 10), days_past_due=10, overdue_amount=Decimal("1030.00"),
        penalty_accrued=Decimal("5.00"), outstanding_balance=Decimal("3090.00"), as_of=NOW,
    )


def as_the_models_write_it(written: dict, data) -> bytes:
    event = new_event(written["type"], RecordingUnitOfWork.source, data, "L-1", NOW)
    event.id = written["id"]
    event.traceparent = dict(written["headers"])["traceparent"]
    return event.to_json_bytes()


def test_a_loan_overdue_is_written_byte_for_byte_as_the_contract_models_write_it():
    uow = RecordingUnitOfWork()
    publish_overdue(uow, overdue(), NOW)
    [written] = uow.published
    expected = LoanOverdue(
        loan_id="L-1", borrower_id="B-1", lender="acme", product="cash", currency="CNY",
        overdue_since=date(2026, 1, 10), days_past_due=10, overdue_amount=Decimal("1030.00"),
        penalty_accrued=Decimal("5.00"), outstanding_balance=Decimal("3090.00"), as_of=NOW,
    )
    assert written["value"] == as_the_models_write_it(written, expected)
    assert (written["topic"], written["key"], written["type"]) == (Topics.LOAN_OVERDUE, b"L-1", "LoanOverdue")
    assert LoanOverdue.model_validate(CloudEvent.model_validate_json(written["value"]).data) == expected


def test_an_overdue_cleared_is_written_byte_for_byte_as_the_contract_models_write_it():
    uow = RecordingUnitOfWork()
    publish_cleared(uow, "L-1", "paid", NOW)
    [written] = uow.published
    expected = OverdueCleared(loan_id="L-1", reason="paid", cleared_at=NOW)
    assert written["value"] == as_the_models_write_it(written, expected)
    assert CloudEvent.model_validate_json(written["value"]).source == "urn:dunning:ingestion"


def test_every_event_gets_its_own_id_and_trace():
    uow = RecordingUnitOfWork()
    publish_overdue(uow, overdue(), NOW)
    publish_overdue(uow, overdue(), NOW)
    first, second = uow.published
    assert first["id"] != second["id"]
    assert first["headers"] != second["headers"]


def test_an_announced_event_id_is_a_random_version_4_uuid_in_its_usual_text_form():
    ids = [new_event_id() for _ in range(1000)]
    parsed = [uuid.UUID(event_id) for event_id in ids]
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 and str(u) == i for u, i in zip(parsed, ids))
    assert len(set(ids)) == len(ids)
