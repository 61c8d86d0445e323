"""Every event model survives the wire unchanged, and refuses what would corrupt money or time."""

import copy
import json
from decimal import Decimal

import pytest
from pydantic import ValidationError

from dunning_contracts import EVENT_TYPES, CloudEvent, new_event, parse_data
from dunning_contracts.schemas import EXAMPLES, example_event

TYPES = sorted(EVENT_TYPES)


def _field_paths(model, example: dict, wanted) -> list[tuple]:
    """Paths into `example` of every field whose JSON Schema satisfies `wanted`, nested ones included."""
    schema = model.model_json_schema()
    return list(_walk(schema, schema, example, (), wanted))


def _walk(root: dict, schema: dict, value, path: tuple, wanted):
    schema = _resolve(root, schema)
    if wanted(schema):
        yield path
    elif schema.get("type") == "object" and isinstance(value, dict):
        for name, sub in schema.get("properties", {}).items():
            if value.get(name) is not None:
                yield from _walk(root, sub, value[name], path + (name,), wanted)
    elif schema.get("type") == "array" and value:
        yield from _walk(root, schema["items"], value[0], path + (0,), wanted)


def _resolve(root: dict, schema: dict) -> dict:
    if "$ref" in schema:
        return _resolve(root, root["$defs"][schema["$ref"].rsplit("/", 1)[1]])
    if "anyOf" in schema:
        return _resolve(root, next(s for s in schema["anyOf"] if s.get("type") != "null"))
    return schema


def _is_money(schema: dict) -> bool:
    return schema.get("type") == "string" and "examples" in schema and schema["examples"] == ["1234.50"]


def _is_timestamp(schema: dict) -> bool:
    return schema.get("format") == "date-time"


def _with(data: dict, path: tuple, value) -> dict:
    changed = copy.deepcopy(data)
    node = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


def _at(data, path: tuple):
    for step in path:
        data = data[step]
    return data


MONEY_FIELDS = [(t, p) for t in TYPES for p in _field_paths(EVENT_TYPES[t], EXAMPLES[t], _is_money)]
TIMESTAMP_FIELDS = [(t, p) for t in TYPES for p in _field_paths(EVENT_TYPES[t], EXAMPLES[t], _is_timestamp)]


def _field_id(case) -> str:
    type_name, path = case
    return f"{type_name}.{'.'.join(str(step) for step in path)}"


MONEY = pytest.mark.parametrize(("type_name", "path"), MONEY_FIELDS, ids=[_field_id(c) for c in MONEY_FIELDS])
TIMESTAMPS = pytest.mark.parametrize(
    ("type_name", "path"), TIMESTAMP_FIELDS, ids=[_field_id(c) for c in TIMESTAMP_FIELDS]
)


def test_every_event_type_has_an_example():
    assert set(EXAMPLES) == set(EVENT_TYPES)


def test_the_field_search_finds_nested_money_and_timestamps():
    assert ("LoanBooked", ("installments", 0, "principal_due")) in MONEY_FIELDS
    assert ("LoanBooked", ("booked_at",)) in TIMESTAMP_FIELDS
    assert ("LoanOverdue", ("penalty_accrued",)) in MONEY_FIELDS


@pytest.mark.parametrize("type_name", TYPES)
def test_an_event_survives_the_wire_unchanged(type_name):
    model = EVENT_TYPES[type_name]
    data = model.model_validate(EXAMPLES[type_name])
    event = new_event(type_name, "urn:test", data, subject=EXAMPLES[type_name]["loan_id"])

    received = CloudEvent.model_validate_json(event.to_json_bytes())

    assert received == event
    assert parse_data(received) == data


@pytest.mark.parametrize("type_name", TYPES)
def test_the_example_serialises_back_to_itself(type_name):
    data = EVENT_TYPES[type_name].model_validate(EXAMPLES[type_name])
    assert _normalised_times(data.model_dump(mode="json")) == _normalised_times(EXAMPLES[type_name])


def _normalised_times(value):
    # pydantic writes UTC as "Z"; the instant is what must survive.
    if isinstance(value, dict):
        return {k: _normalised_times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalised_times(v) for v in value]
    if isinstance(value, str) and value.endswith("Z"):
        return value[:-1] + "+00:00"
    return value


@MONEY
@pytest.mark.parametrize("amount", ["1234.50", "0.10", "98765432109876543210.000000000000000001", "7"])
def test_money_travels_as_the_exact_decimal_string_it_was_sent_as(type_name, path, amount):
    data = EVENT_TYPES[type_name].model_validate(_with(EXAMPLES[type_name], path, amount))

    assert _at(data.model_dump(), path) == Decimal(amount)
    assert _at(json.loads(data.model_dump_json()), path) == amount


@MONEY
def test_a_float_amount_is_refused_naming_the_field(type_name, path):
    with pytest.raises(ValidationError) as refused:
        EVENT_TYPES[type_name].model_validate(_with(EXAMPLES[type_name], path, 1234.5))

    [error] = refused.value.errors()
    assert tuple(error["loc"]) == path
    assert "float" in error["msg"]


@pytest.mark.parametrize("amount", ["1e999999999", "0E-999999", "1" * 31, "0.0000000000000000001", "NaN", "abc"])
def test_an_absurd_amount_is_refused_before_anyone_prints_it(amount):
    with pytest.raises(ValidationError) as refused:
        EVENT_TYPES["RepaymentReceived"].model_validate(_with(EXAMPLES["RepaymentReceived"], ("amount",), amount))
    assert [e["loc"] for e in refused.value.errors()] == [("amount",)]


@TIMESTAMPS
def test_a_timestamp_without_a_zone_is_refused_naming_the_field(type_name, path):
    with pytest.raises(ValidationError) as refused:
        EVENT_TYPES[type_name].model_validate(_with(EXAMPLES[type_name], path, "2026-02-17T09:00:00"))

    [error] = refused.value.errors()
    assert tuple(error["loc"]) == path
    assert error["type"] == "timezone_aware"


def test_an_envelope_time_without_a_zone_is_refused():
    event = example_event("LoanBooked") | {"time": "2026-02-17T09:00:00"}
    with pytest.raises(ValidationError) as refused:
        CloudEvent.model_validate(event)
    assert [e["loc"] for e in refused.value.errors()] == [("time",)]


@pytest.mark.parametrize("type_name", TYPES)
def test_fields_a_consumer_does_not_know_are_ignored(type_name):
    newer = EXAMPLES[type_name] | {"added_in_v2": {"anything": [1, 2.5, "x"]}}

    data = EVENT_TYPES[type_name].model_validate(newer)

    assert data == EVENT_TYPES[type_name].model_validate(EXAMPLES[type_name])
    assert "added_in_v2" not in data.model_dump()


def test_unknown_fields_inside_nested_objects_are_ignored_too():
    booked = copy.deepcopy(EXAMPLES["LoanBooked"])
    booked["borrower"]["national_id_type"] = "passport"
    booked["installments"][0]["fees_due"] = "3.00"

    data = EVENT_TYPES["LoanBooked"].model_validate(booked)

    assert "national_id_type" not in data.borrower.model_dump()
    assert "fees_due" not in data.installments[0].model_dump()


def test_envelope_extension_attributes_are_kept():
    traced = example_event("LoanOverdue") | {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}

    event = CloudEvent.model_validate_json(json.dumps(traced))

    assert json.loads(event.to_json_bytes())["traceparent"] == traced["traceparent"]


def test_an_unknown_event_type_is_refused_by_type_name():
    event = CloudEvent.model_validate(example_event("LoanBooked") | {"type": "LoanRestructured"})
    with pytest.raises(ValueError, match="LoanRestructured"):
        parse_data(event)
