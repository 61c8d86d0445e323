"""`parse_data` validates an envelope's data exactly as its model does: same values, same errors."""

import pytest
from pydantic import ValidationError

from dunning_contracts import EVENT_TYPES, CloudEvent, parse_data
from dunning_contracts.events import UnknownEventType
from dunning_contracts.schemas import example_event

TYPES = sorted(EVENT_TYPES)


@pytest.mark.parametrize("type_name", TYPES)
def test_the_data_of_every_type_is_its_model_validated(type_name):
    event = CloudEvent.model_validate(example_event(type_name))

    data = parse_data(event)

    assert type(data) is EVENT_TYPES[type_name]
    assert data == EVENT_TYPES[type_name].model_validate(event.data)


@pytest.mark.parametrize("type_name", TYPES)
def test_bad_data_is_refused_with_the_model_s_own_errors(type_name):
    event = CloudEvent.model_validate(example_event(type_name) | {"data": {"loan_id": ""}})

    with pytest.raises(ValidationError) as refused:
        parse_data(event)

    with pytest.raises(ValidationError) as by_the_model:
        EVENT_TYPES[type_name].model_validate(event.data)
    assert refused.value.errors() == by_the_model.value.errors()
    assert refused.value.title == type_name


def test_an_unknown_type_is_refused_by_name():
    event = CloudEvent.model_validate(example_event("LoanBooked") | {"type": "LoanRenamed"})

    with pytest.raises(UnknownEventType, match="type: unknown event type 'LoanRenamed'"):
        parse_data(event)
