"""Proves from the databases and the topics that the run lost nothing and did nothing twice.

Each check compares what should exist (from what the broker took from the driver) with what does:
`lost` counts effects missing, `duplicated` effects present more than once. Reads every service's schema
as the PostgreSQL admin, the provider's records over HTTP, and every topic from its beginning."""

import json
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from confluent_kafka import Consumer, TopicPartition

from tests.faults.driver import SentLog
from tests.faults.events import LEGAL_DAYS, SOURCE, LoanPlan

SERVICE_SCHEMAS = ("ingestion", "scheduler", "notification", "legal")
# The consumer group that owns each poisoned topic: its dead letter is the one the checker requires.
DLQ_OWNER = {"lending.repayment-events.v1": "ingestion", "dunning.loan-overdue.v1": "dunning-scheduler"}
SCHEMA_OF_GROUP = {"ingestion": "ingestion", "dunning-scheduler": "scheduler", "notification": "notification",
                   "legal-referral": "legal"}


@dataclass
class Check:
    name: str
    expected: int
    found: int
    lost: int = 0
    duplicated: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    facts: list[tuple[str, int | str]] = field(default_factory=list)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    def add(self, name: str, expected: int, found: int, *, lost=(), duplicated=()) -> None:
        lost, duplicated = list(lost), list(duplicated)
        examples = [f"lost {x}" for x in lost[:3]] + [f"twice {x}" for x in duplicated[:3]]
        self.checks.append(Check(name, expected, found, len(lost), len(duplicated), examples))

    def table(self) -> str:
        width = max(len(check.name) for check in self.checks) + 2
        lines = [f"{'check':<{width}}{'expected':>10}{'found':>10}{'lost':>8}{'twice':>8}  result"]
        lines.append("-" * len(lines[0]))
        for check in self.checks:
            result = "ok" if check.ok else "FAIL " + "; ".join(check.examples)
            lines.append(f"{check.name:<{width}}{check.expected:>10}{check.found:>10}{check.lost:>8}{check.duplicated:>8}  {result}")
        if self.facts:
            lines.append("")
            lines += [f"{name}: {value}" for name, value in self.facts]
        return "\n".join(lines)


@dataclass
class Expected:
    """What the broker took from the driver, and so what must have had its effect."""

    loans: dict[str, LoanPlan]
    booking_ids: set[str]
    repaid: dict[str, str]  # loan_id -> payment event id
    payment_ids: dict[str, str]  # loan_id -> payment_id
    poison: list
    went_overdue: set[str] = field(default_factory=set)  # found by the checker in ingestion's outbox

    @classmethod
    def from_log(cls, plans: list[LoanPlan], log: SentLog) -> "Expected":
        loans = {p.loan_id: p for p in plans if log.delivered(log.bookings.get(p.loan_id, []))}
        repaid = {loan: log.payment_events[loan]["id"] for loan in loans if log.delivered(log.payments.get(loan, []))}
        return cls(
            loans=loans,
            booking_ids={log.booking_events[loan]["id"] for loan in loans},
            repaid=repaid,
            payment_ids={loan: log.payment_events[loan]["data"]["payment_id"] for loan in repaid},
            poison=[poison for poison, sent in log.poison if sent.delivered],
        )


class Database:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.c = connection

    async def outbox(self, schema: str, *types: str) -> list[dict]:
        rows = await self.c.fetch(
            f"SELECT event_type, event_id, value FROM {schema}.outbox WHERE event_type = ANY($1::text[])", list(types)
        )
        return [json.loads(row["value"]) for row in rows]

    async def inbox_ids(self, schema: str, source: str | None = None) -> set[str]:
        if source is None:
            rows = await self.c.fetch(f"SELECT event_id FROM {schema}.inbox")
        else:
            rows = await self.c.fetch(f"SELECT event_id FROM {schema}.inbox WHERE source = $1", source)
        return {row["event_id"] for row in rows}

    async def column_counts(self, table: str, column: str) -> Counter:
        rows = await self.c.fetch(f"SELECT {column} AS k, count(*) AS n FROM {table} GROUP BY {column}")
        return Counter({row["k"]: row["n"] for row in rows})


def by_loan(events: list[dict]) -> Counter:
    return Counter(event["data"]["loan_id"] for event in events)


def unique_event_ids(events: list[dict]) -> list[dict]:
    seen = {}
    for event in events:
        seen.setdefault((event["source"], event["id"]), event)
    return list(seen.values())


async def check_all(admin_dsn: str, expected: Expected, *, bootstrap: str, provider_url: str, pii_key: str | None) -> Report:
    report = Report()
    connection = await asyncpg.connect(admin_dsn)
    try:
        db = Database(connection)
        await check_ingestion(db, expected, report)
        escalated_cases = await check_scheduler(db, expected, report)
        await check_legal(db, expected, escalated_cases, report)
        await check_notification(db, expected, provider_url, report)
        await check_nothing_stuck(db, report)
        dead_letters = await outbox_dead_letters(db, pii_key)
        published = await outbox_events_by_topic(db)
    finally:
        await connection.close()
    on_topics = read_topics(bootstrap)
    check_poison(expected, dead_letters, on_topics, report)
    check_published(published, on_topics, report)
    return report


# ingestion: the ledger reflects every accepted event once


async def check_ingestion(db: Database, expected: Expected, report: Report) -> None:
    ours = expected.booking_ids | set(expected.repaid.values())
    inbox = await db.inbox_ids("ingestion", SOURCE)
    report.add("ingestion inbox: accepted inbound events", len(ours), len(ours & inbox), lost=ours - inbox)
    loans = await db.column_counts("ingestion.loans", "loan_id")
    report.add("ingestion ledger: one loan per LoanBooked", len(expected.loans), sum(loans[l] for l in expected.loans),
               lost=[l for l in expected.loans if not loans[l]], duplicated=[l for l in expected.loans if loans[l] > 1])
    rows = await db.c.fetch("SELECT loan_id, payment_id, amount FROM ingestion.payments WHERE loan_id = ANY($1::text[])",
                            list(expected.loans))
    paid = Counter(row["loan_id"] for row in rows)
    report.add("ingestion ledger: one payment per RepaymentReceived", len(expected.repaid), len(rows),
               lost=[l for l in expected.repaid if not paid[l]], duplicated=[l for l, n in paid.items() if n > 1])
    applied = await db.c.fetch(
        "SELECT loan_id, sum(principal_paid + interest_paid + penalty_paid) AS paid FROM ingestion.installments"
        " WHERE loan_id = ANY($1::text[]) GROUP BY loan_id", list(expected.loans))
    applied = {row["loan_id"]: row["paid"] for row in applied}
    owed = {l: (expected.loans[l].owed if l in expected.repaid else 0) for l in expected.loans}
    report.add("ingestion ledger: payments applied once to installments", len(expected.repaid),
               sum(1 for l in expected.repaid if applied.get(l) == owed[l]),
               lost=[l for l in expected.loans if (applied.get(l) or 0) < owed[l]],
               duplicated=[l for l in expected.loans if (applied.get(l) or 0) > owed[l]])
    overdue = by_loan(unique_event_ids(await db.outbox("ingestion", "LoanOverdue")))
    # A loan booked and paid in one consumer batch (its consumer was down in between) never was overdue
    # at a commit: no LoanOverdue, no OverdueCleared, no case. Every loan left unpaid must go overdue.
    expected.went_overdue = {l for l in expected.loans if overdue[l]}
    unpaid = [l for l in expected.loans if l not in expected.repaid]
    report.add("ingestion outbox: one LoanOverdue per overdue loan", len(unpaid) + len(expected.went_overdue & set(expected.repaid)),
               sum(overdue[l] for l in expected.loans), lost=[l for l in unpaid if not overdue[l]],
               duplicated=[l for l in expected.loans if overdue[l] > 1])
    cleared = by_loan(unique_event_ids(await db.outbox("ingestion", "OverdueCleared")))
    clearable = [l for l in expected.repaid if l in expected.went_overdue]
    report.add("ingestion outbox: one OverdueCleared per repaid overdue loan", len(clearable),
               sum(cleared[l] for l in expected.loans), lost=[l for l in clearable if not cleared[l]],
               duplicated=[l for l in expected.loans if cleared[l] > (l in clearable)])
    report.facts.append(("repaid loans booked and paid in one batch (never overdue at a commit)",
                         len(expected.repaid) - len(clearable)))


# scheduler: one case per overdue loan, resolved when paid; one escalation to legal where due


async def check_scheduler(db: Database, expected: Expected, report: Report) -> dict[str, str]:
    inbox = await db.inbox_ids("scheduler")
    wanted = expected.booking_ids | {e["id"] for e in await db.outbox("ingestion", "LoanOverdue", "OverdueCleared")
                                     if e["data"]["loan_id"] in expected.loans}
    report.add("scheduler inbox: LoanBooked, LoanOverdue, OverdueCleared", len(wanted), len(wanted & inbox),
               lost=wanted - inbox)
    rows = await db.c.fetch("SELECT id, loan_id, status FROM scheduler.cases WHERE loan_id = ANY($1::text[])",
                            list(expected.loans))
    cases = defaultdict(list)
    for row in rows:
        cases[row["loan_id"]].append(row)
    overdue = expected.went_overdue
    report.add("scheduler: one case per overdue loan", len(overdue), len(rows),
               lost=[l for l in overdue if not cases[l]],
               duplicated=[l for l, c in cases.items() if len(c) > 1 or l not in overdue])
    resolved = {l for l, c in cases.items() if any(case["status"] == "resolved" for case in c)}
    paid = set(expected.repaid) & overdue
    report.add("scheduler: cases resolved by a repayment", len(paid), len(resolved),
               lost=paid - resolved, duplicated=resolved - paid)
    escalations = [e for e in unique_event_ids(await db.outbox("scheduler", "CaseEscalated"))
                   if e["data"]["to_stage"] == "legal" and e["data"]["loan_id"] in expected.loans]
    per_loan = by_loan(escalations)
    legal_loans = [l for l, plan in expected.loans.items() if plan.reaches_legal and l in expected.went_overdue]
    report.add(f"scheduler: one escalation to legal per loan >= {LEGAL_DAYS} days", len(legal_loans), len(escalations),
               lost=[l for l in legal_loans if not per_loan[l]],
               duplicated=[l for l, n in per_loan.items() if n > 1 or not expected.loans[l].reaches_legal])
    return {e["data"]["case_id"]: e["data"]["loan_id"] for e in escalations}


# legal-referral: one referral per case that reached legal


async def check_legal(db: Database, expected: Expected, escalated_cases: dict[str, str], report: Report) -> None:
    inbox = await db.inbox_ids("legal")
    wanted = {e["id"] for e in await db.outbox("scheduler", "CaseEscalated") if e["data"]["loan_id"] in expected.loans}
    wanted |= expected.booking_ids
    report.add("legal inbox: LoanBooked, CaseEscalated", len(wanted), len(wanted & inbox), lost=wanted - inbox)
    rows = await db.c.fetch("SELECT legal_case_id, case_id, loan_id FROM legal.legal_cases WHERE loan_id = ANY($1::text[])",
                            list(expected.loans))
    per_case = Counter(row["case_id"] for row in rows)
    # A referral is opened for an escalated case unless its loan was paid first (legal hears of both
    # on two topics, in either order); an unpaid loan's escalation must always reach a partner.
    unpaid = [c for c, loan in escalated_cases.items() if loan not in expected.repaid]
    report.add("legal: one referral per case escalated to legal", len(unpaid), len(rows),
               lost=[c for c in unpaid if not per_case[c]],
               duplicated=[c for c, n in per_case.items() if n > 1 or c not in escalated_cases])
    opened = Counter(e["data"]["legal_case_id"] for e in unique_event_ids(await db.outbox("legal", "LegalCaseOpened")))
    ids = [row["legal_case_id"] for row in rows]
    report.add("legal outbox: one LegalCaseOpened per referral", len(ids), sum(opened[i] for i in ids),
               lost=[i for i in ids if not opened[i]], duplicated=[i for i in ids if opened[i] > 1])


# notification: every requested reminder known once, sent at most once, one provider message each


async def check_notification(db: Database, expected: Expected, provider_url: str, report: Report) -> None:
    requested = [e for e in unique_event_ids(await db.outbox("scheduler", "ReminderRequested"))
                 if e["data"]["loan_id"] in expected.loans]
    inbox = await db.inbox_ids("notification")
    wanted = {e["id"] for e in requested} | expected.booking_ids
    report.add("notification inbox: LoanBooked, ReminderRequested", len(wanted), len(wanted & inbox),
               lost=wanted - inbox)
    same = Counter(_logical_reminder(e["data"]) for e in requested)
    report.add("scheduler: each reminder requested once", len(same), len(requested),
               duplicated=[k for k, n in same.items() if n > 1])
    rows = await db.c.fetch("SELECT reminder_id, status, reason, provider_message_id FROM notification.reminders"
                            " WHERE loan_id = ANY($1::text[])", list(expected.loans))
    known = {row["reminder_id"]: row for row in rows}
    wanted = {e["data"]["reminder_id"] for e in requested}
    report.add("notification: one reminder per ReminderRequested", len(wanted), len(known),
               lost=wanted - set(known), duplicated=set(known) - wanted)
    # A delivery receipt turns `sent` into `delivered`: both went through the provider once.
    sent = [row["reminder_id"] for row in rows if row["status"] in ("sent", "delivered")]
    announced = Counter(e["data"]["reminder_id"] for e in unique_event_ids(await db.outbox("notification", "ReminderSent"))
                        if e["data"]["status"] == "sent")
    report.add("notification outbox: one ReminderSent(sent) per sent reminder", len(sent), sum(announced[r] for r in sent),
               lost=[r for r in sent if not announced[r]], duplicated=[r for r, n in announced.items() if n > 1])
    records = provider_records(provider_url)
    by_reference = defaultdict(list)
    for record in records:
        by_reference[record.get("reference")].append(record)
    report.add("provider: one message per sent reminder_id", len(sent), sum(len(by_reference[r]) for r in sent),
               lost=[r for r in sent if not by_reference[r]],
               duplicated=[r for r, found in by_reference.items() if len(found) > 1])
    # Not a second message (the provider keeps one per reference): the borrower got it once, but the
    # platform recorded and announced the reminder as not sent, so its history and the evidence are wrong.
    held = [r for r in wanted if by_reference[r]]
    recorded_sent = set(sent)
    report.add("notification: a reminder the provider holds is recorded as sent", len(held),
               sum(r in recorded_sent for r in held),
               lost=[f"{r} ({known[r]['status']}: {known[r]['reason']})" for r in held if r not in recorded_sent and r in known]
               + [f"{r} (unknown to notification)" for r in held if r not in known])
    report.facts.append(("provider calls answered as duplicates (a retry after a crash, deduplicated by reference)",
                         sum(r["calls"] - 1 for r in records)))
    report.facts.append(("reminders by status", dict(Counter(row["status"] for row in rows))))
    # Why reminders did not go out: a new reason here is the first sign of a rule misapplied under faults.
    unsent = Counter(f"{row['status']}: {row['reason']}" for row in rows if row["status"] in ("failed", "suppressed"))
    report.facts.append(("failed and suppressed reminders by reason", dict(unsent.most_common())))


def _logical_reminder(data: dict) -> tuple:
    return (data["case_id"], data["channel"], data["template"], data["stage"], data["not_before"][:16])


def provider_records(provider_url: str) -> list[dict]:
    response = httpx.get(provider_url + "/records", timeout=60)
    response.raise_for_status()
    body = response.json()
    return body["items"] if isinstance(body, dict) else body


# Nothing left half done


async def check_nothing_stuck(db: Database, report: Report) -> None:
    for schema in SERVICE_SCHEMAS:
        stuck = await db.c.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL")
        total = await db.c.fetchval(f"SELECT count(*) FROM {schema}.outbox")
        report.add(f"{schema} outbox: every row published", total, total - stuck, lost=range(stuck))
    overdue = datetime.now(UTC) - timedelta(seconds=5)
    stuck = await db.c.fetch("SELECT reminder_id FROM notification.reminders WHERE status = 'pending'"
                             " AND next_attempt_at < $1 AND (lease_until IS NULL OR lease_until < $1)", overdue)
    report.add("notification: no due reminder left unsent", 0, len(stuck), lost=[r["reminder_id"] for r in stuck])


# Poison: every one in a DLQ, with its reason


async def outbox_dead_letters(db: Database, pii_key: str | None) -> dict[str, list[dict]]:
    """Dead letters as the outboxes hold them; sealed ones (they may name a borrower) opened with the key."""
    from dunning_messaging.sealing import Sealer

    sealer = Sealer(pii_key)
    found = {}
    for schema in SERVICE_SCHEMAS:
        rows = await db.c.fetch(f"SELECT * FROM {schema}.outbox WHERE topic LIKE '%.dlq'")
        found[schema] = [{"topic": r["topic"], "value": sealer.open(bytes(r["value"]), dict(r).get("sealed", False)),
                          "headers": dict(map(tuple, json.loads(r["headers"])))} for r in rows]
    return found


def check_poison(expected: Expected, dead_letters: dict[str, list[dict]], on_topics: dict, report: Report) -> None:
    kinds = Counter(poison.kind for poison in expected.poison)
    in_outbox = in_topic = 0
    lost_outbox, lost_topic, no_reason = [], [], []
    for poison in expected.poison:
        owner = DLQ_OWNER[poison.topic]
        schema = SCHEMA_OF_GROUP[owner]
        marker = poison.marker.encode()
        rows = [r for r in dead_letters[schema] if marker in r["value"]]
        in_outbox += bool(rows)
        if not rows:
            lost_outbox.append(f"{poison.kind} {poison.marker}")
        records = [r for r in on_topics.get(poison.topic + ".dlq", []) if marker in r["value"]]
        mine = [r for r in records if r["headers"].get("dlq-service") == owner]
        in_topic += bool(mine)
        if not mine:
            lost_topic.append(f"{poison.kind} {poison.marker}")
        elif not all(r["headers"].get("dlq-reason") and r["headers"].get("dlq-error") for r in mine):
            no_reason.append(f"{poison.kind} {poison.marker}")
    report.add("poison dead-lettered by its consumer (outbox)", len(expected.poison), in_outbox, lost=lost_outbox)
    report.add("poison on its .dlq topic with reason and error", len(expected.poison), in_topic,
               lost=lost_topic + no_reason)
    report.facts.append(("poison sent, by kind", dict(kinds)))
    report.facts.append(("dead letters on the topics, by topic", {t: len(r) for t, r in on_topics.items() if t.endswith(".dlq")}))


async def outbox_events_by_topic(db: Database) -> dict[str, set[str]]:
    found = defaultdict(set)
    for schema in SERVICE_SCHEMAS:
        for row in await db.c.fetch(f"SELECT topic, event_id FROM {schema}.outbox WHERE event_id IS NOT NULL"):
            found[row["topic"]].add(row["event_id"])
    return found


def check_published(published: dict[str, set[str]], on_topics: dict, report: Report) -> None:
    """Every event an outbox holds is on its topic, at least once (after a broker restart, again)."""
    for topic, ids in sorted(published.items()):
        seen = Counter()
        for record in on_topics.get(topic, []):
            try:
                seen[json.loads(record["value"])["id"]] += 1
            except (ValueError, KeyError, TypeError):
                continue
        report.add(f"on {topic}: every outbox event", len(ids), len(ids & set(seen)), lost=ids - set(seen))
        report.facts.append((f"{topic}: records / distinct events", f"{sum(seen.values())} / {len(seen)}"))


def read_topics(bootstrap: str, timeout: float = 120) -> dict[str, list[dict]]:
    """Every record of every topic, from the beginning, with its headers."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"fault-checker-{uuid.uuid4().hex[:8]}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        metadata = consumer.list_topics(timeout=30)
        partitions = []
        ends = {}
        for topic in metadata.topics.values():
            for number in topic.partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(topic.topic, number), timeout=30)
                if high > low:
                    partitions.append(TopicPartition(topic.topic, number, low))
                    ends[(topic.topic, number)] = high
        consumer.assign(partitions)
        records = defaultdict(list)
        remaining = dict(ends)
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None or message.error():
                # Tansu reports a partition's end as the first offset of its last record batch + 1, so
                # reaching it is not the end: read on until nothing has come for a few seconds.
                if not remaining and time.monotonic() - quiet_since > 3:
                    break
                continue
            quiet_since = time.monotonic()
            place = (message.topic(), message.partition())
            records[message.topic()].append({
                "value": message.value() or b"",
                "headers": {k: (v or b"").decode(errors="replace") for k, v in message.headers() or []},
            })
            if message.offset() + 1 >= remaining.get(place, 0):
                remaining.pop(place, None)
        return records
    finally:
        consumer.close()
