"""Borrowers' names, phones and e-mails: after a loan booked over HTTP (reminded), one booked on the bus
(referred to a legal partner) and one malformed (dead-lettered), none of them is found in plaintext in any
column of any service's schema, in any service's log, or in any event the services published."""

import asyncio
import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from dunning_platform.devstack.services import SERVICES
from tests import outside
from tests.outside import afternoon_timezone
from tests.security.conftest import TOPICS
from tests.security.support import admin_dsn

REPAYMENTS = "lending.repayment-events.v1"


def cloud_event(type_: str, data: dict) -> dict:
    return outside.cloud_event(type_, data, source="urn:lender:security-test")


def loan_booked(days_past_due: int, name: str) -> dict:
    loan_id = f"L-sec-{uuid.uuid4().hex[:10]}"
    due = datetime.now(UTC).date() - timedelta(days=days_past_due)
    return cloud_event(
        "LoanBooked",
        {
            "loan_id": loan_id,
            "lender": "lender-sec",
            "product": "cash-loan-30d",
            "currency": "CNY",
            "principal": "1000.00",
            "booked_at": (datetime.now(UTC) - timedelta(days=days_past_due + 30)).isoformat(),
            "borrower": {
                "borrower_id": f"B-{loan_id}",
                "name": name,
                "phone": f"+86139{random.randrange(10**8):08d}",
                "email": f"{uuid.uuid4().hex[:12]}.borrower@example.org",
                "locale": "zh-CN",
                "timezone": afternoon_timezone(),
                "region": "CN",
            },
            "installments": [
                {"seq": 1, "due_date": due.isoformat(), "principal_due": "1000.00", "interest_due": "50.00"}
            ],
        },
    )


def secrets_of(booked: dict) -> dict[str, str]:
    """What must never be readable: each value, the phone also without its country code, and the name
    also as JSON with ASCII escapes writes it (json.dumps' default, which JSON logs use)."""
    borrower = booked["data"]["borrower"]
    return {
        "name": borrower["name"],
        "name as escaped JSON": json.dumps(borrower["name"])[1:-1],
        "phone": borrower["phone"],
        "national phone": borrower["phone"][3:],
        "email": borrower["email"],
    }


def leaks(text: str | bytes, secrets: dict[str, str]) -> list[str]:
    if isinstance(text, bytes):
        return [what for what, value in secrets.items() if value.encode() in text]
    lowered = text.lower()
    return [what for what, value in secrets.items() if value.lower() in lowered]


@pytest.fixture(scope="module")
def booked_and_reminded(platform, tokens, bus) -> dict[str, str]:
    """Three loans through the whole platform: one booked over HTTP until its reminder was sent, one booked
    on the bus until a legal case was opened, and one a lender got wrong (its borrower has no id),
    which goes to the dead-letter topic. Returns every plaintext value that must stay hidden."""
    reminded = loan_booked(days_past_due=5, name="Zhao Mingyue")
    referred = loan_booked(days_past_due=100, name="赵明月")
    malformed = loan_booked(days_past_due=5, name="Qian Shuhua")
    del malformed["data"]["borrower"]["borrower_id"]
    lender = tokens.issue("events:write")

    response = httpx.post(platform.url("ingestion") + "/v1/repayment-events", json=reminded,
                          headers=lender.headers, timeout=30)
    assert response.status_code == 202, response.text
    bus.publish(REPAYMENTS, referred)
    bus.publish(REPAYMENTS, malformed)

    sent = bus.wait_for(topic="dunning.reminder-sent.v1", loan_id=reminded["subject"], timeout=90)
    assert sent["data"]["status"] in ("sent", "delivered"), sent
    bus.wait_for(topic="dunning.legal-case.v1", type="LegalCaseOpened", loan_id=referred["subject"], timeout=90)
    bus.wait_for(topic=REPAYMENTS + ".dlq", loan_id=malformed["subject"], timeout=60)
    asyncio.run(until_dead_lettering_settles(admin_dsn(platform), malformed["id"]))
    return {f"{what} ({booked['subject']})": value
            for booked in (reminded, referred, malformed) for what, value in secrets_of(booked).items()}


async def until_dead_lettering_settles(dsn: str, event_id: str, quiet: float = 3.0, timeout: float = 30.0) -> None:
    """Every service that consumes the inbound topic dead-letters the malformed event on its own; wait
    until no further service has done so for `quiet` seconds."""
    connection = await asyncpg.connect(dsn)
    try:
        counts = " + ".join(
            f"(SELECT count(*) FROM {svc.schema}.outbox WHERE event_id = $1)" for svc in SERVICES
        )
        last, since, deadline = -1, time.monotonic(), time.monotonic() + timeout
        while time.monotonic() < deadline and time.monotonic() - since < quiet:
            count = await connection.fetchval(f"SELECT {counts}", event_id)
            if count != last:
                last, since = count, time.monotonic()
            await asyncio.sleep(0.2)
    finally:
        await connection.close()


async def plaintext_in_schemas(dsn: str, secrets: dict[str, str]) -> tuple[list[str], int]:
    """Every text, bytea, json and array column of every table of every service schema, as the admin;
    what it finds as `schema.table.column: what`, and how many cells it read."""
    connection = await asyncpg.connect(dsn)
    try:
        columns = await connection.fetch(
            """
            SELECT c.table_schema, c.table_name, c.column_name
            FROM information_schema.columns c
            JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE c.table_schema = ANY($1::text[]) AND t.table_type = 'BASE TABLE'
              AND c.data_type IN ('text', 'character varying', 'character', 'bytea', 'json', 'jsonb', 'ARRAY',
                                  'USER-DEFINED')
            """,
            [svc.schema for svc in SERVICES],
        )
        found, cells = [], 0
        for schema, table, column in columns:
            query = f'SELECT "{column}" AS v FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL'
            rows = await connection.fetch(query)
            for row in rows:
                cells += 1
                value = row["v"]
                text = value if isinstance(value, (bytes, str)) else str(value)
                found += [f"{schema}.{table}.{column}: {what}" for what in leaks(text, secrets)]
        return sorted(set(found)), cells
    finally:
        await connection.close()


def in_outbox(finding: str) -> bool:
    return finding.split(".")[1] == "outbox"


@pytest.mark.slow
async def test_no_table_of_any_service_holds_a_borrowers_contact_data_in_plaintext(platform, booked_and_reminded):
    found, cells = await plaintext_in_schemas(admin_dsn(platform), booked_and_reminded)
    found = [finding for finding in found if not in_outbox(finding)]

    assert cells > 0, "the schemas hold nothing: the dump did not see the services' tables"
    assert not found, "plaintext personal data at rest:\n" + "\n".join(found)


@pytest.mark.slow
async def test_no_outbox_holds_a_borrowers_contact_data_in_plaintext(platform, booked_and_reminded):
    found, _ = await plaintext_in_schemas(admin_dsn(platform), booked_and_reminded)
    found = [finding for finding in found if in_outbox(finding)]

    assert not found, "plaintext personal data at rest in outboxes:\n" + "\n".join(found)


@pytest.mark.slow
def test_no_service_log_holds_a_borrowers_contact_data(platform, booked_and_reminded):
    logs = sorted((platform.state_dir / "logs").glob("*.log"))
    found = [f"{log.name}: {what}" for log in logs for what in leaks(log.read_bytes(), booked_and_reminded)]

    assert {svc.name + ".log" for svc in SERVICES} <= {log.name for log in logs}
    assert not found, "personal data in the logs:\n" + "\n".join(sorted(set(found)))


@pytest.mark.slow
def test_no_event_the_services_published_carries_a_borrowers_contact_data(bus, booked_and_reminded):
    # The inbound topic carries what lenders send; everything the services publish is on the others.
    topics = [*TOPICS, *(f"{topic}.dlq" for topic in TOPICS)]
    outbound = {topic: bus.events(topic=topic) for topic in topics if not topic.startswith(REPAYMENTS)}
    found = [
        f"{topic} {event.get('type')} {event.get('id')}: {what}"
        for topic, events in outbound.items()
        for event in events
        for what in leaks(json.dumps(event, ensure_ascii=False), booked_and_reminded)
    ]

    assert outbound["dunning.reminder-sent.v1"] and outbound["dunning.legal-case.v1"], "nothing to inspect"
    assert not found, "personal data on the bus:\n" + "\n".join(found)
