"""Inbound CloudEvents as a lending platform sends them, built with sensible defaults."""

import uuid
from datetime import UTC, date, datetime

SOURCE = "urn:lender:acme"


def envelope(type_: str, data: dict, *, id: str | None = None, time: datetime | None = None, source: str = SOURCE) -> dict:
    return {
        "specversion": "1.0",
        "id": id or str(uuid.uuid4()),
        "source": source,
        "type": type_,
        "time": (time or datetime(2026, 1, 1, tzinfo=UTC)).isoformat(),
        "subject": data["loan_id"],
        "datacontenttype": "application/json",
        "data": data,
    }


def new_loan_id() -> str:
    return f"loan-{uuid.uuid4().hex[:12]}"


def loan_booked(
    loan_id: str, *installments: tuple[str, str, str], currency: str = "CNY", event_time: datetime | None = None, **extra
) -> dict:
    """`installments`: (due date, principal, interest) triples; seq follows their order."""
    schedule = [
        {"seq": seq, "due_date": due, "principal_due": principal, "interest_due": interest}
        for seq, (due, principal, interest) in enumerate(installments, start=1)
    ]
    data = {
        "loan_id": loan_id,
        "lender": "acme",
        "product": "consumer-12m",
        "currency": currency,
        "principal": str(sum(int(p) for _, p, _ in installments)),
        "booked_at": "2025-01-10T10:00:00+08:00",  # a year before the first due date: 5% a year of interest
        "borrower": {
            "borrower_id": f"b-{loan_id}",
            "name": "Li Lei",
            "phone": "+8613800000000",
            "email": "li.lei@example.com",
            "locale": "zh-CN",
            "timezone": "Asia/Shanghai",
            "region": "CN",
        },
        "installments": schedule,
        "penalty_rate_daily": "0.0005",
        "grace_days": 0,
    } | extra
    return envelope("LoanBooked", data, time=event_time)


def repayment(loan_id: str, amount: str, *, paid_at: str = "2026-01-20T10:00:00+08:00", currency: str = "CNY", payment_id: str | None = None) -> dict:
    data = {
        "loan_id": loan_id,
        "payment_id": payment_id or f"pay-{uuid.uuid4().hex[:8]}",
        "amount": amount,
        "currency": currency,
        "paid_at": paid_at,
    }
    return envelope("RepaymentReceived", data)


def loan_closed(loan_id: str, reason: str = "settled", closed_at: str = "2026-01-25T10:00:00+08:00") -> dict:
    return envelope("LoanClosed", {"loan_id": loan_id, "reason": reason, "closed_at": closed_at})


def repayment_failed(loan_id: str, seq: int = 1, failed_at: str = "2026-01-09T10:00:00+08:00") -> dict:
    return envelope("RepaymentFailed", {"loan_id": loan_id, "seq": seq, "reason": "insufficient funds", "failed_at": failed_at})


def day(iso: str) -> date:
    return date.fromisoformat(iso)
