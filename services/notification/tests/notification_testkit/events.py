"""Factories and bus helpers for the notification integration tests."""

import json
import uuid
from datetime import datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from dunning_contracts import TOPIC_OF_TYPE, CloudEvent, Topics, new_event
from dunning_contracts.events import Borrower, Installment, LoanBooked, LoanOverdue, ReminderRequested

LENDING = "urn:lending:test"
RECEIPT_SECRET = "receipt-secret-for-tests"
SCHEDULER = "urn:dunning:dunning-scheduler"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def loan_booked(loan_id: str, borrower_id: str, at: datetime, **borrower) -> CloudEvent:
    contact = {"name": "张三", "phone": "13812345678", "email": "zhang.san@example.com", "locale": "zh-CN"}
    contact |= {"timezone": "Asia/Shanghai", "region": "CN"} | borrower
    data = LoanBooked(
        loan_id=loan_id,
        lender="acme-credit",
        product="cash-loan",
        currency="CNY",
        principal="5000.00",
        booked_at=at - timedelta(days=60),
        borrower=Borrower(borrower_id=borrower_id, **contact),
        installments=[Installment(seq=1, due_date=(at - timedelta(days=12)).date(), principal_due="1200", interest_due="34.5")],
    )
    return new_event("LoanBooked", LENDING, data, loan_id, at)


def loan_overdue(loan_id: str, borrower_id: str, at: datetime) -> CloudEvent:
    data = LoanOverdue(
        loan_id=loan_id,
        borrower_id=borrower_id,
        lender="acme-credit",
        product="cash-loan",
        currency="CNY",
        overdue_since=(at - timedelta(days=12)).date(),
        days_past_due=12,
        overdue_amount="1234.50",
        penalty_accrued="0",
        outstanding_balance="5000.00",
        as_of=at,
    )
    return new_event("LoanOverdue", "urn:dunning:ingestion", data, loan_id, at)


def reminder_requested(loan_id: str, borrower_id: str, at: datetime, channel: str = "sms", **overrides) -> CloudEvent:
    values = {
        "reminder_id": unique("rem"),
        "case_id": unique("case"),
        "loan_id": loan_id,
        "borrower_id": borrower_id,
        "channel": channel,
        "template": "overdue_reminder",
        "locale": "zh-CN",
        "stage": "reminder",
        "not_before": at,
        "expires_at": at + timedelta(days=2),
    } | overrides
    return new_event("ReminderRequested", SCHEDULER, ReminderRequested(**values), loan_id, at)


async def produce(bootstrap: str, *events: CloudEvent) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(TOPIC_OF_TYPE[event.type], event.to_json_bytes(), key=event.subject.encode())
    finally:
        await producer.stop()


class BusReader:
    """Reads every ReminderSent published so far, from the start of the topic, without a consumer group."""

    def __init__(self, bootstrap: str) -> None:
        self._consumer = AIOKafkaConsumer(
            Topics.REMINDER_SENT, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
        )
        self.events: list[dict] = []

    async def start(self) -> "BusReader":
        await self._consumer.start()
        return self

    async def stop(self) -> None:
        await self._consumer.stop()

    async def reminder_sent(self, reminder_id: str) -> list[dict]:
        batches = await self._consumer.getmany(timeout_ms=100)
        for records in batches.values():
            self.events.extend(json.loads(r.value) for r in records)
        return [e["data"] for e in self.events if e["data"]["reminder_id"] == reminder_id]
