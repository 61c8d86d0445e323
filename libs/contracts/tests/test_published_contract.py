"""docs/events/*.json and docs/asyncapi.yaml are generated from the models; they must never drift."""

import json

import pytest
import yaml

from dunning_contracts import EVENT_TYPES, TOPIC_OF_TYPE, Topics, dlq_topic
from dunning_contracts.schemas import (
    ASYNCAPI_FILE,
    EVENTS_DIR,
    asyncapi_document,
    channel_id,
    generated_files,
    repo_root,
    stale_files,
    unexpected_files,
)

ROOT = repo_root()
REGENERATE = "run `python -m dunning_contracts.schemas` and commit the result"


def test_generated_files_in_docs_are_up_to_date():
    assert stale_files(ROOT) == [], REGENERATE


def test_docs_hold_no_schema_of_an_event_type_that_no_longer_exists():
    assert unexpected_files(ROOT) == [], REGENERATE


def test_generation_is_deterministic():
    assert generated_files() == generated_files()


def test_the_envelope_and_every_event_type_have_a_schema_file():
    expected = {f"{EVENTS_DIR}/{stem}.json" for stem in ["CloudEvent", *EVENT_TYPES]}
    assert set(generated_files()) == expected | {ASYNCAPI_FILE}


def test_money_is_published_as_a_decimal_string_not_a_number():
    schema = json.loads(generated_files()[f"{EVENTS_DIR}/LoanOverdue.json"])
    amount = schema["properties"]["overdue_amount"]
    assert amount["type"] == "string"
    assert "pattern" in amount


@pytest.fixture(scope="module")
def asyncapi() -> dict:
    return yaml.safe_load(generated_files()[ASYNCAPI_FILE])


def test_asyncapi_is_version_3(asyncapi):
    assert asyncapi["asyncapi"] == "3.0.0"


def test_every_topic_and_its_dead_letter_twin_is_a_channel(asyncapi):
    addresses = {channel["address"] for channel in asyncapi["channels"].values()}
    assert addresses == set(Topics.ALL) | {dlq_topic(t) for t in Topics.ALL}


def test_each_channel_carries_exactly_the_types_routed_to_its_topic(asyncapi):
    for topic in Topics.ALL:
        channel = asyncapi["channels"][channel_id(topic)]
        assert set(channel["messages"]) == {t for t, on in TOPIC_OF_TYPE.items() if on == topic}


def test_every_message_is_keyed_by_the_loan_id(asyncapi):
    trait = asyncapi["components"]["messageTraits"]["loanKeyed"]
    assert "loan id" in trait["bindings"]["kafka"]["key"]["description"]
    for message in asyncapi["components"]["messages"].values():
        assert {"$ref": "#/components/messageTraits/loanKeyed"} in message["traits"]


def test_message_payloads_reference_schema_files_that_exist(asyncapi):
    for name in EVENT_TYPES:
        payload = asyncapi["components"]["messages"][name]["payload"]
        refs = [part["$ref"] for part in payload["allOf"] if "$ref" in part]
        refs.append(payload["allOf"][1]["properties"]["data"]["$ref"])
        assert refs == ["./events/CloudEvent.json", f"./events/{name}.json"]
        for ref in refs:
            assert (ROOT / "docs" / ref).exists()


def test_every_internal_reference_resolves(asyncapi):
    for ref in _internal_refs(asyncapi):
        node = asyncapi
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]


def _internal_refs(node) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if str(node.get("$ref", "")).startswith("#/") else []
        return own + [ref for value in node.values() for ref in _internal_refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _internal_refs(value)]
    return []


def _readers(asyncapi: dict, topic: str) -> set[tuple[str, tuple[str, ...]]]:
    readers = set()
    for operation in asyncapi["operations"].values():
        if operation["action"] == "receive" and operation["channel"]["$ref"] == f"#/channels/{channel_id(topic)}":
            types = tuple(sorted(ref["$ref"].rsplit("/", 1)[1] for ref in operation["messages"]))
            readers.add((operation["tags"][0]["name"], types))
    return readers


def test_consumers_of_each_topic_are_documented(asyncapi):
    assert _readers(asyncapi, Topics.REPAYMENT_EVENTS) == {
        ("ingestion", ("LoanBooked", "LoanClosed", "RepaymentFailed", "RepaymentReceived")),
        ("dunning-scheduler", ("LoanBooked", "LoanClosed", "RepaymentFailed", "RepaymentReceived")),
        ("notification", ("LoanBooked",)),
        ("legal-referral", ("LoanBooked",)),
    }
    overdue_readers = {service for service, _ in _readers(asyncapi, Topics.LOAN_OVERDUE)}
    assert overdue_readers == {"dunning-scheduler", "notification", "legal-referral"}
    assert {service for service, _ in _readers(asyncapi, Topics.REMINDER_REQUESTED)} == {"notification"}
    assert {service for service, _ in _readers(asyncapi, Topics.REMINDER_SENT)} == {"legal-referral", "dunning-scheduler"}
    assert {service for service, _ in _readers(asyncapi, Topics.CASE_ESCALATED)} == {"legal-referral"}
    assert {service for service, _ in _readers(asyncapi, Topics.CASE_EVENTS)} == {"legal-referral", "notification"}


def test_each_topic_names_its_producer(asyncapi):
    producers = {c["address"]: c["x-producer"] for c in asyncapi["channels"].values() if "x-dead-letter-channel" in c}
    assert producers == {
        Topics.REPAYMENT_EVENTS: "lending-platforms",
        Topics.LOAN_OVERDUE: "ingestion",
        Topics.REMINDER_REQUESTED: "dunning-scheduler",
        Topics.REMINDER_SENT: "notification",
        Topics.CASE_ESCALATED: "dunning-scheduler",
        Topics.LEGAL_CASE: "legal-referral",
        Topics.CASE_EVENTS: "dunning-scheduler",
    }


def test_the_document_in_memory_is_the_one_rendered():
    assert yaml.safe_load(generated_files()[ASYNCAPI_FILE]) == json.loads(json.dumps(asyncapi_document()))
