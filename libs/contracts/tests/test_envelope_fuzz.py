"""Whatever arrives on the bus, the parser answers with a validation error or a parsed event: never a
crash of another kind, which would stall a consumer instead of sending the message to the DLQ."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dunning_contracts import EVENT_TYPES, CloudEvent, parse_data
from dunning_contracts.schemas import example_event

EXPECTED = (ValidationError, ValueError)

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=30,
)
field_names = st.sampled_from(sorted({k for t in EVENT_TYPES for k in example_event(t)["data"]}))


def parse(raw: bytes | str) -> None:
    """What a consumer does with a Kafka value: the envelope, then its data."""
    parse_data(CloudEvent.model_validate_json(raw))


def _survives(raw: bytes | str) -> None:
    try:
        parse(raw)
    except EXPECTED:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_value_is_parsed_or_refused_as_invalid(value):
    _survives(json.dumps(value))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_parsed_or_refused_as_invalid(raw):
    _survives(raw)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    type_name=st.sampled_from(sorted(EVENT_TYPES)),
    envelope_changes=st.dictionaries(st.sampled_from(["specversion", "id", "source", "type", "time", "subject"]),
                                     json_values, max_size=2),
    data_changes=st.dictionaries(field_names, json_values, max_size=3),
    dropped=st.lists(field_names, max_size=2),
)
def test_a_valid_event_with_fields_damaged_is_parsed_or_refused_as_invalid(
    type_name, envelope_changes, data_changes, dropped
):
    event = example_event(type_name) | envelope_changes
    if isinstance(event.get("data"), dict):
        event["data"] |= data_changes
        for name in dropped:
            event["data"].pop(name, None)
    _survives(json.dumps(event))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(EVENT_TYPES)), st.text(alphabet="0123456789.eE+-", min_size=1, max_size=30))
def test_any_amount_like_string_is_parsed_or_refused(type_name, amount):
    event = example_event(type_name)
    for name in ("principal", "amount", "overdue_amount", "penalty_accrued", "outstanding_balance"):
        if name in event["data"]:
            event["data"][name] = amount
    _survives(json.dumps(event))


def test_deeply_nested_json_is_refused_not_a_recursion_crash():
    deep = '{"a":' * 100_000 + "1" + "}" * 100_000
    _survives(deep)
    _survives(json.dumps(example_event("LoanBooked"))[:-1] + ', "extension": ' + deep + "}")


def test_a_valid_event_parses():
    parse(json.dumps(example_event("LoanBooked")))
