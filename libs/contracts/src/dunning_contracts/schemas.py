"""The published form of the contract: a JSON Schema per event and an AsyncAPI 3.0 document of the bus.

`python -m dunning_contracts.schemas` writes them into docs/; `--check` only says whether docs/ is stale.
Everything is rendered with sorted keys, so a regenerated file is byte-for-byte the one in the repository
unless the models, topics or the routing table below changed.
"""

import argparse
import copy
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from dunning_contracts.envelope import MAX_EVENT_BYTES, CloudEvent
from dunning_contracts.events import EVENT_TYPES
from dunning_contracts.topics import TOPIC_OF_TYPE, Topics, dlq_topic

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
EVENTS_DIR = "docs/events"
ASYNCAPI_FILE = "docs/asyncapi.yaml"
ENVELOPE = "CloudEvent"
KAFKA_BINDING_VERSION = "0.5.0"


@dataclass(frozen=True)
class Subscription:
    """One service reading one topic; `types` empty means every type on that topic."""

    service: str
    topic: str
    types: tuple[str, ...] = ()


# Who writes each topic. Upstream lending platforms are outside the platform; everything else is ours.
PRODUCERS: dict[str, str] = {
    Topics.REPAYMENT_EVENTS: "lending-platforms",
    Topics.LOAN_OVERDUE: "ingestion",
    Topics.REMINDER_REQUESTED: "dunning-scheduler",
    Topics.REMINDER_SENT: "notification",
    Topics.CASE_ESCALATED: "dunning-scheduler",
    Topics.LEGAL_CASE: "legal-referral",
    Topics.CASE_EVENTS: "dunning-scheduler",
}

# Who reads what: each service's handler table, one consumer group per service named after it. A
# consumer of a shared topic skips the types it does not list. tests/test_deploy.py holds this to the
# services' HANDLERS.
SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription("ingestion", Topics.REPAYMENT_EVENTS),
    Subscription("dunning-scheduler", Topics.LOAN_OVERDUE),
    Subscription("dunning-scheduler", Topics.REPAYMENT_EVENTS, ("LoanBooked", "LoanClosed", "RepaymentFailed", "RepaymentReceived")),
    # Voice reminders count with agent calls against a borrower's call caps.
    Subscription("dunning-scheduler", Topics.REMINDER_SENT),
    Subscription("notification", Topics.REMINDER_REQUESTED),
    Subscription("notification", Topics.LOAN_OVERDUE),
    Subscription("notification", Topics.REPAYMENT_EVENTS, ("LoanBooked",)),
    Subscription("notification", Topics.CASE_EVENTS, ("HoldPlaced", "HoldReleased", "ContactAttempted")),
    Subscription("legal-referral", Topics.CASE_ESCALATED),
    Subscription("legal-referral", Topics.LOAN_OVERDUE),
    Subscription("legal-referral", Topics.REMINDER_SENT),
    Subscription("legal-referral", Topics.REPAYMENT_EVENTS, ("LoanBooked",)),
    Subscription("legal-referral", Topics.CASE_EVENTS, (
        "PromiseMade", "PromiseKept", "PromiseBroken", "HoldPlaced", "HoldReleased", "PlanAgreed", "PlanCompleted", "PlanBroken",
        "ContactAttempted",
    )),
)

TOPIC_DESCRIPTIONS: dict[str, str] = {
    Topics.REPAYMENT_EVENTS: "What lending platforms report about their loans: bookings, repayments, failed debits, "
    "closures. Also accepted over HTTP at POST /v1/repayment-events of ingestion.",
    Topics.LOAN_OVERDUE: "The ledger's verdict: a loan became overdue or its overdue amount changed, or it is "
    "no longer overdue.",
    Topics.REMINDER_REQUESTED: "A collection case asks for one reminder on one channel, inside a time window.",
    Topics.REMINDER_SENT: "What became of a requested reminder: sent, delivered, failed or suppressed (with why).",
    Topics.CASE_ESCALATED: "A collection case moved up the stage ladder reminder, phone, field_visit, legal.",
    Topics.LEGAL_CASE: "Referrals to partner law firms: opened, then every status change.",
    Topics.CASE_EVENTS: "An extension of the contract: what happened to a collection case besides its stage "
    "(promises made, kept, broken; holds placed and released; repayment plans agreed, completed, broken; "
    "agents' calls and field visits, counted with reminders against the contact caps).",
}

DLQ_HEADERS = {
    "dlq-reason": "invalid (could never be parsed), rejected (a domain rule refused it) or failed (retries ran out)",
    "dlq-error": "what went wrong, naming the field where there is one (at most 4000 characters)",
    "dlq-service": "the consumer group that gave up on the message",
    "dlq-original-topic": "the topic the message was read from",
    "dlq-original-partition": "its partition there",
    "dlq-original-offset": "its offset there",
    "dlq-failed-at": "when it was dead-lettered (RFC 3339)",
}


# One valid example of every event type: shown in the AsyncAPI document, and the tests' starting point.

_LOAN = "L-20260105-0001"
EXAMPLES: dict[str, dict[str, Any]] = {
    "LoanBooked": {
        "loan_id": _LOAN,
        "lender": "acme-lending",
        "product": "cash-12m",
        "currency": "CNY",
        "principal": "12000.00",
        "booked_at": "2026-01-05T09:30:00+08:00",
        "borrower": {
            "borrower_id": "B-7731",
            "name": "Wang Fang",
            "phone": "+8613800000000",
            "email": "wang.fang@example.com",
            "locale": "zh-CN",
            "timezone": "Asia/Shanghai",
            "region": "CN-31",
        },
        "installments": [
            {"seq": 1, "due_date": "2026-02-05", "principal_due": "1000.00", "interest_due": "60.00"},
            {"seq": 2, "due_date": "2026-03-05", "principal_due": "1000.00", "interest_due": "55.00"},
        ],
        "penalty_rate_daily": "0.0005",
        "grace_days": 3,
    },
    "RepaymentReceived": {
        "loan_id": _LOAN,
        "payment_id": "P-88120",
        "amount": "1060.00",
        "currency": "CNY",
        "paid_at": "2026-02-20T11:02:13+08:00",
    },
    "RepaymentFailed": {
        "loan_id": _LOAN,
        "seq": 1,
        "reason": "insufficient funds",
        "failed_at": "2026-02-05T06:00:00+08:00",
    },
    "LoanClosed": {"loan_id": _LOAN, "reason": "repaid", "closed_at": "2027-01-05T10:00:00+08:00"},
    "LoanOverdue": {
        "loan_id": _LOAN,
        "borrower_id": "B-7731",
        "lender": "acme-lending",
        "product": "cash-12m",
        "currency": "CNY",
        "overdue_since": "2026-02-05",
        "days_past_due": 12,
        "overdue_amount": "1060.00",
        "penalty_accrued": "6.36",
        "outstanding_balance": "12120.36",
        "as_of": "2026-02-17T00:00:00Z",
    },
    "OverdueCleared": {"loan_id": _LOAN, "reason": "paid", "cleared_at": "2026-02-20T03:02:14Z"},
    "ReminderRequested": {
        "reminder_id": "R-5001",
        "case_id": "C-3001",
        "loan_id": _LOAN,
        "borrower_id": "B-7731",
        "channel": "sms",
        "template": "overdue-first-notice",
        "locale": "zh-CN",
        "stage": "reminder",
        "not_before": "2026-02-09T01:00:00Z",
        "expires_at": "2026-02-10T01:00:00Z",
    },
    "ReminderSent": {
        "reminder_id": "R-5001",
        "loan_id": _LOAN,
        "channel": "sms",
        "status": "sent",
        "reason": None,
        "provider": "dev-sms",
        "provider_message_id": "sms-000123",
        "occurred_at": "2026-02-09T01:00:02Z",
    },
    "CaseEscalated": {
        "case_id": "C-3001",
        "loan_id": _LOAN,
        "borrower_id": "B-7731",
        "from_stage": "field_visit",
        "to_stage": "legal",
        "reason": "90 days past due",
        "days_past_due": 90,
        "overdue_amount": "3180.00",
        "currency": "CNY",
        "escalated_at": "2026-05-06T00:00:00Z",
    },
    "LegalCaseOpened": {
        "legal_case_id": "LC-901",
        "case_id": "C-3001",
        "loan_id": _LOAN,
        "partner_id": "firm-shanghai-01",
        "status": "referred",
        "occurred_at": "2026-05-06T00:00:05Z",
    },
    "LegalCaseUpdated": {
        "legal_case_id": "LC-901",
        "case_id": "C-3001",
        "loan_id": _LOAN,
        "partner_id": "firm-shanghai-01",
        "status": "accepted",
        "occurred_at": "2026-05-08T02:15:00Z",
    },
    "PromiseMade": {
        "case_id": "C-3001", "loan_id": _LOAN, "occurred_at": "2026-03-02T03:10:00Z",
        "promise_id": "5b0c2f5e-8d7a-4c55-9a36-1f2f0f7c9a10", "amount": "1500.00", "currency": "CNY",
        "promised_date": "2026-03-09", "taken_by": "agent-0042",
    },
    "PromiseKept": {
        "case_id": "C-3001", "loan_id": _LOAN, "occurred_at": "2026-03-08T09:00:00Z",
        "promise_id": "5b0c2f5e-8d7a-4c55-9a36-1f2f0f7c9a10",
    },
    "PromiseBroken": {
        "case_id": "C-3001", "loan_id": _LOAN, "occurred_at": "2026-03-12T00:00:00Z",
        "promise_id": "5b0c2f5e-8d7a-4c55-9a36-1f2f0f7c9a10", "broken_promises": 1,
    },
    "HoldPlaced": {
        "case_id": "C-3001", "loan_id": _LOAN, "occurred_at": "2026-03-03T06:00:00Z",
        "hold_id": "8e5d1c44-2b1f-4e0c-8f3a-6a1f4d2b7c01", "reason": "dispute",
        "expires_at": "2026-03-17T06:00:00Z", "placed_by": "complaints-desk",
    },
    "HoldReleased": {
        "case_id": "C-3001", "loan_id": _LOAN, "occurred_at": "2026-03-10T06:00:00Z",
        "hold_id": "8e5d1c44-2b1f-4e0c-8f3a-6a1f4d2b7c01", "reason": "dispute", "released_because": "released",
    },
    "PlanAgreed": {
        "case_id": "C-3001", "loan_id": _LOAN, "occurred_at": "2026-03-04T02:00:00Z",
        "plan_id": "0f3a9b2c-6d4e-4f1a-9b8c-2e7d5a1c3b40", "currency": "CNY", "agreed_by": "agent-0042",
        "installments": [
            {"seq": 1, "due_date": "2026-03-15", "amount": "1000.00"},
            {"seq": 2, "due_date": "2026-04-15", "amount": "1000.00"},
        ],
    },
    "PlanCompleted": {
        "case_id": "C-3001", "loan_id": _LOAN, "occurred_at": "2026-04-15T08:00:00Z",
        "plan_id": "0f3a9b2c-6d4e-4f1a-9b8c-2e7d5a1c3b40",
    },
    "PlanBroken": {
        "case_id": "C-3001", "loan_id": _LOAN, "occurred_at": "2026-03-18T00:00:00Z",
        "plan_id": "0f3a9b2c-6d4e-4f1a-9b8c-2e7d5a1c3b40", "missed_seq": 1,
    },
    "ContactAttempted": {
        "case_id": "C-3001", "loan_id": _LOAN, "occurred_at": "2026-03-02T03:12:00Z",
        "task_id": "5b1e7c2a-9d3f-4a6b-8e1c-7f2d4b6a9c10", "borrower_id": "B-7731", "channel": "phone",
        "connected": True, "outcome": "promise", "agent_id": "agent-7",
    },
}

_EXAMPLE_SOURCES = {"lending-platforms": "urn:lender:acme-lending"}


def example_event(type_name: str) -> dict[str, Any]:
    """The example data of `type_name` in its CloudEvent envelope, exactly as it travels (a fresh copy)."""
    producer = PRODUCERS[TOPIC_OF_TYPE[type_name]]
    return {
        "specversion": "1.0",
        "id": f"00000000-0000-4000-8000-{sorted(EVENT_TYPES).index(type_name) + 1:012d}",
        "source": _EXAMPLE_SOURCES.get(producer, f"urn:dunning:{producer}"),
        "type": type_name,
        "time": "2026-02-17T00:00:01Z",
        "subject": _LOAN,
        "datacontenttype": "application/json",
        "data": copy.deepcopy(EXAMPLES[type_name]),
    }


# JSON Schemas


def model_schema(model: type[BaseModel], *, description: str | None = None) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["$id"] = f"{model.__name__}.json"
    if description:
        schema["description"] = description
    return schema


def envelope_schema() -> dict[str, Any]:
    return model_schema(
        CloudEvent,
        description="CloudEvents 1.0, structured JSON mode: the whole Kafka value. `subject` is the loan id, "
        f"which is also the Kafka key. Extension attributes (traceparent, ...) are allowed. At most "
        f"{MAX_EVENT_BYTES} bytes.",
    )


def data_schema(type_name: str) -> dict[str, Any]:
    model = EVENT_TYPES[type_name]
    topic = TOPIC_OF_TYPE[type_name]
    return model_schema(
        model,
        description=f"The `data` of a CloudEvent of type {type_name} on {topic}. Money is a decimal string, "
        "never a number; timestamps carry a zone. Consumers ignore fields they do not know.",
    )


def event_schemas() -> dict[str, dict[str, Any]]:
    """File stem -> schema: the envelope and the data of every event type."""
    schemas = {ENVELOPE: envelope_schema()}
    schemas |= {name: data_schema(name) for name in sorted(EVENT_TYPES)}
    return schemas


# AsyncAPI 3.0


def types_on(topic: str) -> list[str]:
    return [name for name, on in TOPIC_OF_TYPE.items() if on == topic]


def consumers_of(topic: str) -> list[Subscription]:
    return [s for s in SUBSCRIPTIONS if s.topic == topic]


def channel_id(topic: str) -> str:
    """`dunning.loan-overdue.v1.dlq` -> `dunningLoanOverdueV1Dlq`: ids must be plain identifiers."""
    words = topic.replace("-", ".").split(".")
    return words[0] + "".join(word.capitalize() for word in words[1:])


def _ref(*path: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(path)}


def message_component(type_name: str) -> dict[str, Any]:
    return {
        "name": type_name,
        "title": type_name,
        "summary": f"A CloudEvent of type {type_name}; the Kafka key is its loan id.",
        "contentType": "application/json",
        "payload": {
            "allOf": [
                {"$ref": f"./events/{ENVELOPE}.json"},
                {
                    "type": "object",
                    "required": ["type", "subject", "data"],
                    "properties": {
                        "type": {"const": type_name},
                        "subject": {"type": "string", "description": "the loan id"},
                        "data": {"$ref": f"./events/{type_name}.json"},
                    },
                },
            ]
        },
        "traits": [_ref("components", "messageTraits", "loanKeyed")],
        "examples": [
            {"name": f"{type_name}Example", "summary": f"Kafka key {_LOAN}", "payload": example_event(type_name)}
        ],
    }


def dead_letter_component() -> dict[str, Any]:
    return {
        "name": "DeadLetter",
        "title": "Dead letter",
        "summary": "A message a consumer could not process, unchanged (it may not even be JSON), "
        "with the reason in its headers.",
        "contentType": "application/json",
        "headers": {
            "type": "object",
            "required": ["dlq-reason", "dlq-error", "dlq-service", "dlq-original-topic"],
            "properties": {name: {"type": "string", "description": text} for name, text in DLQ_HEADERS.items()},
        },
        "payload": {"description": "the original Kafka value, byte for byte"},
        "traits": [_ref("components", "messageTraits", "loanKeyed")],
    }


def topic_channel(topic: str) -> dict[str, Any]:
    consumers = consumers_of(topic)
    return {
        "address": topic,
        "title": topic,
        "description": TOPIC_DESCRIPTIONS[topic],
        "messages": {name: _ref("components", "messages", name) for name in types_on(topic)},
        "bindings": {"kafka": _topic_binding(topic)},
        "x-producer": PRODUCERS[topic],
        "x-consumers": [_consumer_note(s) for s in consumers],
        "x-dead-letter-channel": channel_id(dlq_topic(topic)),
    }


def dlq_channel(topic: str) -> dict[str, Any]:
    return {
        "address": dlq_topic(topic),
        "title": dlq_topic(topic),
        "description": f"Messages of {topic} that a consumer gave up on, each as it arrived, with "
        "the error in its headers. Nothing is dropped silently; operators inspect and re-drive from here.",
        "messages": {"DeadLetter": _ref("components", "messages", "DeadLetter")},
        "bindings": {"kafka": _topic_binding(dlq_topic(topic))},
        "x-producer": ", ".join(sorted({s.service for s in consumers_of(topic)})) or "none",
        "x-consumers": ["operators (inspect and re-drive)"],
    }


def _topic_binding(topic: str) -> dict[str, Any]:
    # Partitions and replicas are deployment settings (docs/operations.md), not part of the contract.
    return {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}


def _consumer_note(subscription: Subscription) -> str:
    if not subscription.types:
        return subscription.service
    return f"{subscription.service} ({', '.join(subscription.types)})"


def send_operation(topic: str) -> dict[str, Any]:
    producer = PRODUCERS[topic]
    channel = channel_id(topic)
    return {
        "action": "send",
        "title": f"{producer} publishes to {topic}",
        "channel": _ref("channels", channel),
        "messages": [_ref("channels", channel, "messages", name) for name in types_on(topic)],
        "tags": [{"name": producer}],
    }


def receive_operation(subscription: Subscription) -> dict[str, Any]:
    channel = channel_id(subscription.topic)
    types = subscription.types or tuple(types_on(subscription.topic))
    return {
        "action": "receive",
        "title": f"{subscription.service} consumes {', '.join(types)} from {subscription.topic}",
        "channel": _ref("channels", channel),
        "messages": [_ref("channels", channel, "messages", name) for name in types],
        "tags": [{"name": subscription.service}],
        "bindings": {
            "kafka": {
                "groupId": {"type": "string", "enum": [subscription.service]},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def dead_letter_operation(topic: str) -> dict[str, Any]:
    channel = channel_id(dlq_topic(topic))
    return {
        "action": "send",
        "title": f"the consumers of {topic} dead-letter what they cannot process",
        "channel": _ref("channels", channel),
        "messages": [_ref("channels", channel, "messages", "DeadLetter")],
    }


def operations() -> dict[str, dict[str, Any]]:
    ops: dict[str, dict[str, Any]] = {}
    for topic in Topics.ALL:
        ops[f"{PRODUCERS[topic]}.send.{channel_id(topic)}"] = send_operation(topic)
        if consumers_of(topic):
            ops[f"deadLetter.{channel_id(topic)}"] = dead_letter_operation(topic)
    for subscription in SUBSCRIPTIONS:
        ops[f"{subscription.service}.receive.{channel_id(subscription.topic)}"] = receive_operation(subscription)
    return ops


def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    for topic in Topics.ALL:
        channels[channel_id(topic)] = topic_channel(topic)
        channels[channel_id(dlq_topic(topic))] = dlq_channel(topic)
    messages = {name: message_component(name) for name in sorted(EVENT_TYPES)}
    messages["DeadLetter"] = dead_letter_component()
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Dunning platform bus",
            "version": "1.0.0",
            "description": "Every topic of the dunning platform. Each Kafka value is one CloudEvents 1.0 event "
            "in structured JSON mode; the Kafka key is the loan id, so one loan's events keep their order. "
            "Delivery is at-least-once; consumers deduplicate on (source, id). A message that cannot be "
            "processed goes unchanged to the topic's `.dlq` twin with the error in its headers.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "production": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "description": "Apache Kafka (KRaft), as in docker-compose.yml; producer idempotence on.",
            },
            "embedded": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The embedded broker of `make run` (memory only, no idempotent producers).",
            },
        },
        "channels": channels,
        "operations": operations(),
        "components": {
            "messages": messages,
            "messageTraits": {
                "loanKeyed": {
                    "bindings": {
                        "kafka": {
                            "key": {"type": "string", "description": "the loan id (the event's `subject`)"},
                            "bindingVersion": KAFKA_BINDING_VERSION,
                        }
                    }
                }
            },
        },
    }


# Rendering


def render_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_yaml(document: dict[str, Any]) -> str:
    import yaml  # only needed to publish the contract, not to use it

    header = "# Generated by `python -m dunning_contracts.schemas`; do not edit by hand.\n"
    body = yaml.safe_dump(document, sort_keys=True, allow_unicode=True, default_flow_style=False, width=120)
    return header + body


def generated_files() -> dict[str, str]:
    """Path relative to the repository root -> its exact content."""
    files = {f"{EVENTS_DIR}/{stem}.json": render_json(schema) for stem, schema in event_schemas().items()}
    files[ASYNCAPI_FILE] = render_yaml(asyncapi_document())
    return files


def stale_files(root: Path) -> list[str]:
    """The generated files that are missing or differ from what would be generated now."""
    stale = []
    for relative, content in generated_files().items():
        path = root / relative
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            stale.append(relative)
    return stale


def unexpected_files(root: Path) -> list[str]:
    """Schema files left behind by event types that no longer exist."""
    expected = set(generated_files())
    present = (root / EVENTS_DIR).glob("*.json")
    return sorted(str(p.relative_to(root)) for p in present if str(p.relative_to(root)) not in expected)


def write_all(root: Path) -> list[str]:
    """Write every generated file that changed and remove orphans; return what was touched."""
    touched = []
    for relative, content in generated_files().items():
        path = root / relative
        if path.exists() and path.read_text(encoding="utf-8") == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        touched.append(relative)
    for relative in unexpected_files(root):
        (root / relative).unlink()
        touched.append(relative)
    return touched


def repo_root() -> Path:
    for candidate in Path(__file__).resolve().parents:
        if (candidate / "libs").is_dir() and (candidate / "docs").is_dir():
            return candidate
    return Path.cwd()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dunning_contracts.schemas", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help="repository root (default: found from here)")
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/ is stale; write nothing")
    args = parser.parse_args(argv)
    root = args.root or repo_root()
    if args.check:
        problems = stale_files(root) + unexpected_files(root)
        for relative in problems:
            print(f"stale: {relative}", file=sys.stderr)
        return 1 if problems else 0
    for relative in write_all(root):
        print(f"wrote {relative}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
