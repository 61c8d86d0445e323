"""Inbound CloudEvents of CONTRACT §2, built as plain dicts (pydantic per event would make the load
generator the bottleneck); `assert_valid` checks samples against the contract's models."""

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dunning_contracts import CloudEvent, parse_data

SOURCE = "urn:bench:lender"
LENDER = "bench-lender"
# Reminders are sent only in the borrower's daytime; the run picks whichever of these is in it now.
DAYTIME_ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Tokyo",
                 "Europe/London", "Asia/Kolkata", "Pacific/Auckland", "America/Sao_Paulo")


def daytime_zone(now: datetime | None = None) -> str:
    """The zone whose local hour is closest to 14:00, far from any quiet hours."""
    now = now or datetime.now(UTC)
    return min(DAYTIME_ZONES, key=lambda zone: abs(now.astimezone(ZoneInfo(zone)).hour + now.minute / 60 - 14))


def envelope(type_: str, loan_id: str, data: dict, *, source: str = SOURCE) -> dict:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "type": type_,
        "time": datetime.now(UTC).isoformat(),
        "subject": loan_id,
        "datacontenttype": "application/json",
        "data": data,
    }


def loan_booked(loan_id: str, *, zone: str, first_due: date) -> dict:
    """A three-installment cash loan; the first installment is due on `first_due`."""
    installments = [
        {"seq": seq, "due_date": (first_due + timedelta(days=30 * (seq - 1))).isoformat(),
         "principal_due": "1000.00", "interest_due": "30.00"}
        for seq in (1, 2, 3)
    ]
    borrower = {
        "borrower_id": f"b-{loan_id}", "name": "Bench Borrower", "phone": "+8613800000000",
        "email": f"{loan_id}@example.invalid", "locale": "zh-CN", "timezone": zone, "region": "CN",
    }
    data = {
        "loan_id": loan_id, "lender": LENDER, "product": "cash-loan", "currency": "CNY", "principal": "3000.00",
        "booked_at": (datetime.now(UTC) - timedelta(days=40)).isoformat(), "borrower": borrower,
        "installments": installments, "penalty_rate_daily": "0.0005", "grace_days": 0,
    }
    return envelope("LoanBooked", loan_id, data)


def repayment_received(loan_id: str, amount: str = "200.00") -> dict:
    data = {"loan_id": loan_id, "payment_id": f"p-{uuid.uuid4().hex}", "amount": amount, "currency": "CNY",
            "paid_at": datetime.now(UTC).isoformat()}
    return envelope("RepaymentReceived", loan_id, data)


def reminder_requested(loan_id: str, *, channel: str = "sms") -> dict:
    now = datetime.now(UTC)
    data = {
        "reminder_id": f"r-{uuid.uuid4().hex}", "case_id": f"c-{loan_id}", "loan_id": loan_id,
        "borrower_id": f"b-{loan_id}", "channel": channel, "template": "overdue_day1", "locale": "zh-CN",
        "stage": "reminder", "not_before": (now - timedelta(minutes=1)).isoformat(),
        "expires_at": (now + timedelta(hours=12)).isoformat(),
    }
    return envelope("ReminderRequested", loan_id, data, source="urn:bench:scheduler")


def overdue_date(days: int = 3) -> date:
    return datetime.now(UTC).date() - timedelta(days=days)


def loan_ids(prefix: str, count: int) -> list[str]:
    run = uuid.uuid4().hex[:6]
    return [f"{prefix}-{run}-{n:07d}" for n in range(count)]


def booked_and_repaid(count: int, zone: str) -> list[dict]:
    """`count` events: a LoanBooked with an overdue installment and then a partial payment, per loan."""
    events = []
    for loan_id in loan_ids("ing", (count + 1) // 2):
        events.append(loan_booked(loan_id, zone=zone, first_due=overdue_date()))
        events.append(repayment_received(loan_id))
    return events[:count]


def encode(event: dict) -> tuple[bytes, bytes]:
    """(Kafka key, value): the key is the loan id, so each loan's events stay in order."""
    return event["subject"].encode(), json.dumps(event, separators=(",", ":")).encode()


def assert_valid(events: list[dict]) -> None:
    """Each distinct type among `events` passes the contract's own validation."""
    seen = {}
    for event in events:
        seen.setdefault(event["type"], event)
    for event in seen.values():
        parse_data(CloudEvent.model_validate(event))
