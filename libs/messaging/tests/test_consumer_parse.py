"""The consumer's parse of a record, without a broker: what a handler is given, and why a bad record is
refused (the reason travels to the DLQ in the dlq-error header)."""

import json

import pytest
from aiokafka import ConsumerRecord

from dunning_contracts import CloudEvent
from dunning_contracts.envelope import MAX_EVENT_BYTES
from dunning_contracts.events import LoanBooked, RepaymentReceived
from dunning_contracts.schemas import example_event
from dunning_messaging.consumer import ConsumerSpec, decode


def _record(value: bytes | None, offset: int = 0) -> ConsumerRecord:
    return ConsumerRecord("lending.repayment-events.v1", 0, offset, 0, 0, b"L-1", value, None, 3, len(value or b""), [])


def _spec(*, reject_unknown_types: bool = False) -> ConsumerSpec:
    handlers = {"LoanBooked": None, "RepaymentReceived": None}
    return ConsumerSpec("parse-test", ["lending.repayment-events.v1"], handlers, reject_unknown_types=reject_unknown_types)


def _wire(event: dict) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


def _parsed(event: dict, *, spec: ConsumerSpec | None = None):
    delivery = decode(_record(_wire(event)), spec or _spec())
    if delivery is not None and delivery.invalid is None:
        delivery.parse_data()
    return delivery


def _repayment(**data) -> dict:
    event = example_event("RepaymentReceived")
    event["data"].update(data)
    return event


def test_a_handler_is_given_the_envelope_with_its_data_as_sent_and_the_validated_model():
    event = example_event("LoanBooked") | {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}

    delivery = _parsed(event)

    assert type(delivery.event) is CloudEvent
    assert delivery.event.data == event["data"]  # the dict of the wire, money still as text
    assert delivery.event.traceparent == event["traceparent"]  # extension attributes are kept
    assert isinstance(delivery.data, LoanBooked)
    assert delivery.data == LoanBooked.model_validate(event["data"])
    assert delivery.dedupe_key == (event["source"], event["id"])


def test_the_data_is_validated_only_when_asked_so_a_duplicate_costs_no_data_parse():
    delivery = decode(_record(_wire(_repayment(amount="-1.00"))), _spec())

    assert delivery.invalid is None and delivery.data is None
    delivery.parse_data()
    assert delivery.invalid == "data.amount: Value error, must be greater than zero"


def test_asking_for_the_data_twice_validates_it_once():
    delivery = _parsed(_repayment())
    first = delivery.data

    delivery.parse_data()

    assert isinstance(first, RepaymentReceived) and delivery.data is first


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"time": "2026-02-17T00:00:01"}, "time: Input should have timezone info"),
        ({"id": ""}, "id: String should have at least 1 character"),
        ({"specversion": "0.3"}, "specversion: Input should be '1.0'"),
        ({"data": ["not", "an", "object"]}, "data: Input should be an object"),
    ],
)
def test_an_envelope_error_names_its_field_and_is_keyed_by_the_content(change, reason):
    delivery = _parsed(example_event("LoanBooked") | change)

    assert delivery.invalid == reason
    assert delivery.event is None and delivery.dedupe_key[0] == "kafka-content:lending.repayment-events.v1"


def test_a_missing_envelope_field_is_named():
    event = example_event("LoanBooked")
    del event["source"]

    assert _parsed(event).invalid == "source: Field required"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"amount": 12.5}, 'data.amount: Value error, must be a decimal string such as "1234.50", not a float'),
        ({"currency": "yuan"}, "data.currency: String should match pattern '^[A-Z]{3}$'"),
        ({"paid_at": "yesterday"}, "data.paid_at: Input should be a valid datetime or date, input is too short"),
    ],
)
def test_a_data_error_names_its_field_under_data_and_is_keyed_by_the_event(data, reason):
    event = _repayment(**data)

    delivery = _parsed(event)

    assert delivery.invalid == reason
    assert delivery.dedupe_key == (event["source"], event["id"])


def test_a_rule_across_fields_of_the_data_is_reported_as_the_data_s():
    event = example_event("LoanBooked")
    event["data"]["installments"] = [event["data"]["installments"][0]] * 2

    assert _parsed(event).invalid == "data.event: Value error, installments: seq values must be unique"


def test_every_error_of_a_record_is_reported_not_only_the_first():
    event = _repayment(amount="0", currency="cny")

    reasons = _parsed(event).invalid.split("; ")

    assert reasons == ["data.amount: Value error, must be greater than zero", "data.currency: String should match pattern '^[A-Z]{3}$'"]


def test_a_record_that_is_not_json_is_refused_as_such():
    delivery = decode(_record(b"{not json"), _spec())

    assert delivery.invalid.startswith("event: Invalid JSON")


def test_an_empty_or_oversized_record_is_refused_before_it_is_parsed():
    assert decode(_record(None), _spec()).invalid == "value: the message is empty"
    oversized = decode(_record(b" " * (MAX_EVENT_BYTES + 1)), _spec()).invalid
    assert oversized == f"value: the message has {MAX_EVENT_BYTES + 1} bytes, more than {MAX_EVENT_BYTES}"


def test_a_type_meant_for_another_consumer_is_skipped_on_a_shared_topic():
    assert _parsed(example_event("LoanClosed")) is None


def test_an_unknown_type_is_refused_on_an_inbound_topic():
    delivery = _parsed(example_event("LoanClosed"), spec=_spec(reject_unknown_types=True))

    assert delivery.invalid == "type: unknown event type 'LoanClosed'"


def test_a_record_its_spec_leaves_unread_is_skipped_before_anything_is_parsed():
    spec = _spec()
    spec.unread = {"lending.repayment-events.v1": lambda value: b"LoanClosed" in value}

    assert decode(_record(b"not even JSON, but a LoanClosed"), spec) is None
    assert _parsed(example_event("LoanBooked"), spec=spec).data is not None
    assert decode(_record(b"not JSON"), spec).invalid.startswith("event: Invalid JSON")
