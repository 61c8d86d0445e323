"""The thin slice through all four services, driven from outside as a lending platform would: events on
the bus through a Kafka client of our own, reads and writes over HTTP with the admin token."""

import os
import random
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from dunning_platform.testing import wait_for
from tests import outside
from tests.outside import afternoon_timezone

REPAYMENTS = "lending.repayment-events.v1"
LOAN_OVERDUE = "dunning.loan-overdue.v1"
REMINDER_REQUESTED = "dunning.reminder-requested.v1"
REMINDER_SENT = "dunning.reminder-sent.v1"
CASE_ESCALATED = "dunning.case-escalated.v1"
LEGAL_CASE = "dunning.legal-case.v1"


def cloud_event(type_: str, data: dict) -> dict:
    return outside.cloud_event(type_, data, source="urn:lender:system-test")


def loan_booked(days_past_due: int, principal_due: str = "1000.00", interest_due: str = "50.00") -> dict:
    loan_id = f"L-{uuid.uuid4().hex[:12]}"
    due = datetime.now(UTC).date() - timedelta(days=days_past_due)
    return cloud_event(
        "LoanBooked",
        {
            "loan_id": loan_id,
            "lender": "lender-a",
            "product": "cash-loan-30d",
            "currency": "CNY",
            "principal": principal_due,
            "booked_at": (datetime.now(UTC) - timedelta(days=days_past_due + 30)).isoformat(),
            "borrower": {
                "borrower_id": f"B-{loan_id}",
                "name": "Li Wei",
                "phone": f"+86138{random.randrange(10**8):08d}",
                "email": f"{loan_id.lower()}@example.com",
                "locale": "zh-CN",
                "timezone": afternoon_timezone(),
                "region": "CN",
            },
            "installments": [
                {"seq": 1, "due_date": due.isoformat(), "principal_due": principal_due, "interest_due": interest_due}
            ],
        },
    )


def repayment(loan_id: str, amount: Decimal, currency: str = "CNY") -> dict:
    return cloud_event(
        "RepaymentReceived",
        {
            "loan_id": loan_id,
            "payment_id": f"P-{uuid.uuid4().hex[:12]}",
            "amount": str(amount),
            "currency": currency,
            "paid_at": datetime.now(UTC).isoformat(),
        },
    )


def items(body) -> list[dict]:
    return body["items"] if isinstance(body, dict) else body


class Api:
    def __init__(self, platform) -> None:
        self.platform = platform
        self.headers = {"Authorization": f"Bearer {platform.admin_token}"}

    def get(self, service: str, path: str, **params) -> httpx.Response:
        return httpx.get(self.platform.url(service) + path, params=params, headers=self.headers, timeout=10)

    def cases(self, loan_id: str) -> list[dict]:
        response = self.get("dunning-scheduler", "/v1/cases", loan_id=loan_id)
        response.raise_for_status()
        return items(response.json())

    def reminders(self, loan_id: str) -> list[dict]:
        response = self.get("notification", "/v1/reminders", loan_id=loan_id)
        response.raise_for_status()
        return items(response.json())

    def legal_cases(self, loan_id: str) -> list[dict]:
        response = self.get("legal-referral", "/v1/legal-cases", loan_id=loan_id)
        response.raise_for_status()
        return items(response.json())


@pytest.fixture(scope="module")
def api(running_platform) -> Api:
    return Api(running_platform)


def test_an_overdue_loan_gets_a_case_and_a_reminder_through_the_provider(bus, api, running_platform):
    booked = loan_booked(days_past_due=5)
    loan_id = booked["subject"]

    bus.publish(REPAYMENTS, booked)

    overdue = bus.wait_for(topic=LOAN_OVERDUE, type="LoanOverdue", loan_id=loan_id)["data"]
    assert 4 <= overdue["days_past_due"] <= 6
    assert Decimal(overdue["overdue_amount"]) >= Decimal("1050.00"), "principal and interest due, at least"
    case = wait_for(lambda: api.cases(loan_id), what="the case")[0]
    assert case["status"] == "open"
    requested = bus.wait_for(topic=REMINDER_REQUESTED, type="ReminderRequested", loan_id=loan_id)["data"]
    sent = bus.wait_for(topic=REMINDER_SENT, type="ReminderSent", loan_id=loan_id)["data"]
    assert sent["reminder_id"] == requested["reminder_id"]
    assert sent["status"] in ("sent", "delivered"), sent
    assert len(received(running_platform, requested["channel"], booked)) == 1


def test_a_loan_one_day_overdue_gets_an_sms_through_the_provider(bus, running_platform):
    booked = loan_booked(days_past_due=1)
    loan_id = booked["subject"]

    bus.publish(REPAYMENTS, booked)

    wait_for(lambda: sms_requested(bus, loan_id), what="an SMS reminder request")
    sms = sms_requested(bus, loan_id)[0]
    sent = wait_for(lambda: [e["data"] for e in bus.events(topic=REMINDER_SENT, loan_id=loan_id)
                             if e["data"]["reminder_id"] == sms["reminder_id"]], what="the SMS to be sent")[0]
    assert sent["status"] in ("sent", "delivered"), sent
    assert sent["provider"]
    [message] = received(running_platform, "sms", booked)
    assert message["to"] == booked["data"]["borrower"]["phone"]


def sms_requested(bus, loan_id: str) -> list[dict]:
    return [e["data"] for e in bus.events(topic=REMINDER_REQUESTED, loan_id=loan_id) if e["data"]["channel"] == "sms"]


def received(platform, channel: str, booked: dict) -> list[dict]:
    """What the dev provider recorded on `channel` for this loan's borrower."""
    borrower = booked["data"]["borrower"]
    address = {"sms": borrower["phone"], "voice": borrower["phone"], "email": borrower["email"]}.get(channel)
    params = {"channel": channel} | ({"to": address} if address else {})
    response = httpx.get(platform.provider_url + "/records", params=params, timeout=10)
    response.raise_for_status()
    return items(response.json())


def test_a_loan_100_days_past_due_goes_to_a_legal_partner(bus, api):
    booked = loan_booked(days_past_due=100)
    loan_id = booked["subject"]

    bus.publish(REPAYMENTS, booked)

    escalated = bus.wait_for(topic=CASE_ESCALATED, type="CaseEscalated", loan_id=loan_id)["data"]
    assert escalated["to_stage"] == "legal"
    opened = bus.wait_for(topic=LEGAL_CASE, type="LegalCaseOpened", loan_id=loan_id)["data"]
    assert opened["partner_id"]
    listed = wait_for(lambda: api.legal_cases(loan_id), what="the legal case")
    assert [entry["legal_case_id"] for entry in listed] == [opened["legal_case_id"]]


def test_a_repayment_covering_the_overdue_amount_resolves_the_case(bus, api):
    booked = loan_booked(days_past_due=5)
    loan_id = booked["subject"]
    bus.publish(REPAYMENTS, booked)
    overdue = bus.wait_for(topic=LOAN_OVERDUE, type="LoanOverdue", loan_id=loan_id)["data"]
    wait_for(lambda: api.cases(loan_id), what="the case")

    owed = Decimal(overdue["overdue_amount"]) + Decimal(overdue["penalty_accrued"])
    bus.publish(REPAYMENTS, repayment(loan_id, owed))

    cleared = bus.wait_for(topic=LOAN_OVERDUE, type="OverdueCleared", loan_id=loan_id)["data"]
    assert cleared["reason"] == "paid"
    wait_for(lambda: api.cases(loan_id)[0]["status"] == "resolved", what="the case to be resolved")


def test_the_same_loan_booked_twice_gives_one_case_and_one_reminder(bus, api, running_platform):
    booked = loan_booked(days_past_due=5)
    loan_id = booked["subject"]

    bus.publish(REPAYMENTS, booked)
    bus.publish(REPAYMENTS, booked)
    resent = httpx.post(
        running_platform.url("ingestion") + "/v1/repayment-events", json=booked, headers=api.headers, timeout=10
    )

    assert resent.status_code in (200, 202), resent.text
    bus.wait_for(topic=REMINDER_SENT, type="ReminderSent", loan_id=loan_id)
    # A repayment after the duplicates, on the same key, is handled after them all; once the case is
    # resolved, nothing the duplicates could have caused is still on its way.
    overdue = bus.wait_for(topic=LOAN_OVERDUE, type="LoanOverdue", loan_id=loan_id)["data"]
    owed = Decimal(overdue["overdue_amount"]) + Decimal(overdue["penalty_accrued"])
    bus.publish(REPAYMENTS, repayment(loan_id, owed))
    wait_for(lambda: api.cases(loan_id)[0]["status"] == "resolved", what="the case to be resolved")
    assert len(api.cases(loan_id)) == 1
    assert len(bus.events(topic=LOAN_OVERDUE, type="LoanOverdue", loan_id=loan_id)) == 1
    requested = bus.events(topic=REMINDER_REQUESTED, loan_id=loan_id)
    channels = [event["data"]["channel"] for event in requested]
    assert requested and len(channels) == len(set(channels)), f"one reminder per channel, not {channels}"
    assert len(api.reminders(loan_id)) == len(requested)
    for channel in set(channels) & {"sms", "email"}:
        assert len(received(running_platform, channel, booked)) == 1, channel


def test_a_request_without_a_token_is_refused_with_401(running_platform):
    for service, path in [
        ("ingestion", "/v1/loans/L-1"),
        ("dunning-scheduler", "/v1/cases?loan_id=L-1"),
        ("notification", "/v1/reminders?loan_id=L-1"),
        ("legal-referral", "/v1/legal-cases?loan_id=L-1"),
    ]:
        response = httpx.get(running_platform.url(service) + path, timeout=10)
        assert response.status_code == 401, (service, response.text)


def test_a_token_without_the_scope_is_refused_with_403(running_platform):
    reader = issue_token_through_the_cli(running_platform, "cases:read")
    response = httpx.post(
        running_platform.url("ingestion") + "/v1/repayment-events",
        json=loan_booked(days_past_due=5),
        headers={"Authorization": f"Bearer {reader}"},
        timeout=10,
    )
    assert response.status_code == 403, response.text


def issue_token_through_the_cli(platform, *scopes: str) -> str:
    command = [sys.executable, "-m", "dunning_platform.devstack", "token", "--name", "reader", "--scopes", *scopes]
    return subprocess.run(command, env=platform.env, check=True, capture_output=True, text=True).stdout.strip()


def test_a_malformed_event_gets_problem_json_naming_the_field(api, running_platform):
    event = loan_booked(days_past_due=5)
    del event["data"]["currency"]

    response = httpx.post(
        running_platform.url("ingestion") + "/v1/repayment-events", json=event, headers=api.headers, timeout=10
    )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "currency" in response.text


def test_every_service_answers_its_probes_and_documents_its_api(running_platform):
    for service in ("ingestion", "dunning-scheduler", "notification", "legal-referral"):
        base = running_platform.url(service)
        assert httpx.get(base + "/healthz").status_code == 200
        assert httpx.get(base + "/readyz").status_code == 200
        assert "# TYPE" in httpx.get(base + "/metrics").text
        assert httpx.get(base + "/openapi.json").json()["paths"]


@pytest.mark.slow
def test_services_killed_mid_batch_resume_without_a_second_case_reminder_or_referral(bus, api, running_platform):
    reminded = [loan_booked(days_past_due=5) for _ in range(30)]
    referred = [loan_booked(days_past_due=100) for _ in range(10)]
    ids = {booked["subject"] for booked in reminded + referred}

    for booked in reminded + referred:
        bus.publish(REPAYMENTS, booked)
    kill_on_first(bus, running_platform, "dunning-scheduler", REMINDER_REQUESTED, ids)
    kill_on_first(bus, running_platform, "notification", REMINDER_SENT, ids)
    kill_on_first(bus, running_platform, "legal-referral", LEGAL_CASE, ids)

    for booked in reminded:
        wait_for(lambda: bus.events(topic=REMINDER_SENT, loan_id=booked["subject"]), timeout=180, what="a reminder")
    for booked in referred:
        wait_for(lambda: api.legal_cases(booked["subject"]), timeout=180, what="a referral")
    for booked in reminded:
        loan_id = booked["subject"]
        assert len(api.cases(loan_id)) == 1
        requested = bus.events(topic=REMINDER_REQUESTED, loan_id=loan_id)
        channels = [event["data"]["channel"] for event in requested]
        assert len(channels) == len(set(channels)), f"{loan_id}: one reminder per channel, not {channels}"
        for channel in set(channels) & {"sms", "email"}:
            assert len(received(running_platform, channel, booked)) <= 1, f"{loan_id}: {channel} sent twice"
    for booked in referred:
        loan_id = booked["subject"]
        assert len(api.legal_cases(loan_id)) == 1
        opened = bus.events(topic=LEGAL_CASE, type="LegalCaseOpened", loan_id=loan_id)
        assert len({event["data"]["legal_case_id"] for event in opened}) == 1


def kill_on_first(bus, platform, service: str, topic: str, loan_ids: set[str]) -> None:
    """SIGKILL `service` as soon as it has published its first event for these loans; the
    supervisor starts it again."""
    wait_for(lambda: any(e["data"]["loan_id"] in loan_ids for e in bus.events(topic=topic)), timeout=90,
             what=f"{service} to publish on {topic}")
    os.kill(platform.pid_of(service), signal.SIGKILL)


def test_ctrl_c_stops_the_platform_and_leaves_nothing_running(running_platform, bus):
    bus.close()
    assert running_platform.stop() == 0
    assert running_platform.leftovers() == []
