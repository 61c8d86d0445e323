"""A policy document is refused, with the reason, unless it makes sense as a whole."""

import pytest
from pydantic import ValidationError

from dunning_scheduler import policy_docs
from dunning_scheduler.domain.default_policy import DEFAULT_POLICY
from dunning_scheduler.domain.policy import Policy


def document(**changes) -> dict:
    return DEFAULT_POLICY.model_dump(mode="json") | changes


def refusal(content: dict) -> str:
    with pytest.raises(ValidationError) as error:
        Policy.model_validate(content)
    return str(error.value)


def test_the_default_policy_survives_a_round_trip_as_json():
    assert Policy.model_validate_json(DEFAULT_POLICY.model_dump_json()) == DEFAULT_POLICY


def test_the_first_stage_must_be_reminder():
    stages = document()["stages"][1:]
    assert "the first stage must be 'reminder', not 'phone'" in refusal(document(stages=stages))


def test_a_stage_may_appear_once():
    stages = document()["stages"]
    assert "each stage may appear once" in refusal(document(stages=[stages[0], stages[1], stages[1]]))


def test_a_later_stage_needs_an_entry_rule():
    stages = document()["stages"]
    stages[1]["entry"] = []
    assert "'phone' needs at least one entry rule" in refusal(document(stages=stages))


def test_an_entry_rule_needs_days_or_broken_promises():
    stages = document()["stages"]
    stages[2]["entry"] = [{"min_overdue_amount": "5000"}]
    assert "needs min_days_past_due, min_broken_promises or min_failed_contacts" in refusal(document(stages=stages))


def test_a_repeat_needs_a_count_and_a_count_needs_a_repeat():
    stages = document()["stages"]
    stages[0]["actions"][0]["max_count"] = 3
    assert "repeat_every_days and max_count > 1 go together" in refusal(document(stages=stages))


def test_an_agent_call_has_no_channel():
    stages = document()["stages"]
    stages[1]["actions"][0]["channel"] = "sms"
    assert "a agent_call has no channel" in refusal(document(stages=stages))


def test_an_unknown_field_is_refused_not_ignored():
    assert "Extra inputs are not permitted" in refusal(document(max_reminders=3))


def test_the_contact_window_must_open_before_it_closes():
    assert "start 21:00:00 must be before end 08:00:00" in refusal(document(contact_window={"start": "21:00", "end": "08:00"}))


def test_the_contact_window_is_local_hours_without_an_offset():
    assert "a local time of day, without a UTC offset" in refusal(document(contact_window={"start": "00:00:00Z"}))


def test_money_thresholds_are_decimal_strings_not_floats():
    stages = document()["stages"]
    stages[2]["entry"][0]["min_overdue_amount"] = 5000.5
    assert "not a float" in refusal(document(stages=stages))


def test_the_published_schema_and_default_policy_are_up_to_date():
    for name, content in policy_docs.rendered().items():
        path = policy_docs.docs_dir() / name
        assert path.exists() and path.read_text() == content, f"{path} is stale: python -m dunning_scheduler.policy_docs"
