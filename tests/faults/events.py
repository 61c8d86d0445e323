"""What the fault suite sends, as a lending platform would: loans past due by various amounts, payments
that clear some of them, and the garbage a real feed carries now and then (poison, duplicates, giants).

Every message carries a marker the checker finds again in the databases and on the DLQ topics."""

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

SOURCE = "urn:lender:fault-suite"
REPAYMENTS = "lending.repayment-events.v1"
LOAN_OVERDUE = "dunning.loan-overdue.v1"
LEGAL_DAYS = 90

# Days past due and how often each occurs: reminder, phone, field visit and legal stages.
DAYS_PAST_DUE = [(1, 15, 35), (16, 30, 20), (31, 89, 20), (LEGAL_DAYS, 200, 25)]


@dataclass(frozen=True)
class LoanPlan:
    """One loan of the stream: how late it is, what it owes, and whether the borrower pays."""

    loan_id: str
    days_past_due: int
    principal_due: Decimal
    interest_due: Decimal
    repaid: bool

    @property
    def owed(self) -> Decimal:
        return self.principal_due + self.interest_due

    @property
    def reaches_legal(self) -> bool:
        return self.days_past_due >= LEGAL_DAYS


@dataclass
class Poison:
    """A message no consumer can apply; `marker` is somewhere in its bytes."""

    kind: str
    topic: str
    key: bytes
    value: bytes
    marker: str = field(default_factory=lambda: f"poison-{uuid.uuid4().hex}")


def plan_loans(count: int, repay_share: float, rng: random.Random, run_id: str) -> list[LoanPlan]:
    plans = []
    for n in range(count):
        low, high, _ = rng.choices(DAYS_PAST_DUE, weights=[w for *_, w in DAYS_PAST_DUE])[0]
        principal = Decimal(rng.randrange(500, 20_000)) + Decimal(rng.randrange(100)) / 100
        interest = (principal * Decimal("0.05")).quantize(Decimal("0.01"))
        loan_id = f"F{run_id}-{n:06d}"
        plans.append(LoanPlan(loan_id, rng.randint(low, high), principal, interest, rng.random() < repay_share))
    return plans


def cloud_event(type_: str, data: dict, *, event_id: str | None = None) -> dict:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": SOURCE,
        "type": type_,
        "time": datetime.now(UTC).isoformat(),
        "subject": data["loan_id"],
        "datacontenttype": "application/json",
        "data": data,
    }


def afternoon_timezone() -> str:
    """A zone where it is early afternoon now, so quiet hours hold no reminder back during the run."""
    offset = 13 - datetime.now(UTC).hour
    offset = offset - 24 if offset > 14 else offset
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def loan_booked(plan: LoanPlan, rng: random.Random) -> dict:
    due = datetime.now(UTC).date() - timedelta(days=plan.days_past_due)
    return cloud_event(
        "LoanBooked",
        {
            "loan_id": plan.loan_id,
            "lender": "lender-fault-suite",
            "product": "cash-loan-30d",
            "currency": "CNY",
            "principal": str(plan.principal_due),
            "booked_at": (datetime.now(UTC) - timedelta(days=plan.days_past_due + 30)).isoformat(),
            # No grace and no penalty: what is owed is known here without the ledger's arithmetic.
            "grace_days": 0,
            "penalty_rate_daily": "0",
            "borrower": {
                "borrower_id": f"B-{plan.loan_id}",
                "name": "Wang Fang",
                "phone": f"+86139{rng.randrange(10**8):08d}",
                "email": f"{plan.loan_id.lower()}@example.com",
                "locale": "zh-CN",
                "timezone": afternoon_timezone(),
                "region": "CN",
            },
            "installments": [
                {"seq": 1, "due_date": due.isoformat(), "principal_due": str(plan.principal_due),
                 "interest_due": str(plan.interest_due)}
            ],
        },
    )


def repayment(plan: LoanPlan, *, currency: str = "CNY", amount: Decimal | None = None) -> dict:
    return cloud_event(
        "RepaymentReceived",
        {
            "loan_id": plan.loan_id,
            "payment_id": f"P-{plan.loan_id}-{uuid.uuid4().hex[:8]}",
            "amount": str(plan.owed if amount is None else amount),
            "currency": currency,
            "paid_at": datetime.now(UTC).isoformat(),
        },
    )


def encode(event: dict) -> bytes:
    return json.dumps(event).encode()


# Poison: each kind is refused for a different reason, at a different place.


def invalid_json(topic: str = REPAYMENTS) -> Poison:
    poison = Poison("invalid JSON", topic, b"", b"")
    poison.key = f"L-{poison.marker}".encode()
    poison.value = b'{"specversion": "1.0", "id": "' + poison.marker.encode() + b'", "data": {'
    return poison


def _poison_event(kind: str, event: dict, topic: str = REPAYMENTS) -> Poison:
    poison = Poison(kind, topic, b"", b"")
    event["id"] = poison.marker
    poison.key = event["subject"].encode()
    poison.value = encode(event)
    return poison


def malformed_currency(plan: LoanPlan, rng: random.Random) -> Poison:
    """A loan in "yuan": not an ISO 4217 code, refused by the envelope's validation."""
    event = loan_booked(plan, rng)
    event["data"]["currency"] = "yuan"
    event["data"]["loan_id"] = event["subject"] = f"{plan.loan_id}-X"
    return _poison_event("malformed currency", event)


def mismatched_currency(plan: LoanPlan) -> Poison:
    """A payment in USD on a loan booked in CNY: valid on the wire, refused by the ledger."""
    return _poison_event("currency mismatch", repayment(plan, currency="USD"))


def unknown_type(plan: LoanPlan) -> Poison:
    event = cloud_event("LoanRefinanced", {"loan_id": plan.loan_id, "new_rate": "0.01"})
    return _poison_event("unknown type", event)


def oversized(plan: LoanPlan, rng: random.Random, size: int = 300 * 1024) -> Poison:
    """Larger than the platform accepts (256 KiB) yet smaller than the broker's limit."""
    event = loan_booked(plan, rng)
    event["data"]["loan_id"] = event["subject"] = f"{plan.loan_id}-BIG"
    event["data"]["notes"] = "x" * size
    return _poison_event("oversized", event)
