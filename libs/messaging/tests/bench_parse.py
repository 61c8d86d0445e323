"""CPU per record of the consumer's parse (envelope and data), without a broker or a database: 100,000
records, a quarter each of LoanBooked and RepaymentReceived (the benchmark's generator), LoanOverdue (as
ingestion emits it) and ReminderRequested, through `decode` and `Delivery.parse_data`. Best of N rounds
of `time.process_time`, the garbage collector off while timed as the services calm it. Not a test.

    .venv/bin/python libs/messaging/tests/bench_parse.py [RECORDS] [ROUNDS] [--one-pass]

`--one-pass` also times pydantic's own work without the consumer's frames: the two passes (envelope,
then data), and one validation per record straight from the bytes with an envelope model per type whose
data is the concrete model, once keeping the data's dict as well (what a handler is given as
`event.data`), once without it (a lower bound: handlers would lose `event.data`).

To compare with another version, put its sources first on PYTHONPATH and run both alternately."""

import gc
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from aiokafka import ConsumerRecord
from pydantic import Field, create_model

sys.path.insert(0, str(Path(__file__).parents[3]))  # the repository root, for tests.bench

from dunning_contracts import CloudEvent, Topics, new_event  # noqa: E402
from dunning_contracts.events import EVENT_TYPES, LoanOverdue  # noqa: E402
from dunning_messaging.consumer import ConsumerSpec, decode  # noqa: E402
from dunning_platform.tracing import child_traceparent  # noqa: E402
from tests.bench import bench_events as ev  # noqa: E402


def values(count: int) -> list[bytes]:
    quarter = count // 4
    booked_and_repaid = ev.booked_and_repaid(2 * quarter, ev.daytime_zone())
    loan_ids = ev.loan_ids("parse", quarter)
    return (
        [ev.encode(event)[1] for event in booked_and_repaid]
        + [_overdue(loan_id) for loan_id in loan_ids]
        + [ev.encode(ev.reminder_requested(loan_id))[1] for loan_id in loan_ids]
    )


def _overdue(loan_id: str) -> bytes:
    data = LoanOverdue(
        loan_id=loan_id, borrower_id=f"b-{loan_id}", lender=ev.LENDER, product="cash-loan", currency="CNY",
        overdue_since=date(2026, 11, 20), days_past_due=7, overdue_amount=Decimal("1030.00"),
        penalty_accrued=Decimal("3.50"), outstanding_balance=Decimal("2860.00"), as_of=datetime.now(UTC),
    )
    event = new_event("LoanOverdue", "urn:dunning:ingestion", data, loan_id, traceparent=child_traceparent())
    return event.to_json_bytes()


def parse_all(records: list[ConsumerRecord], spec: ConsumerSpec) -> None:
    for record in records:
        delivery = decode(record, spec)
        delivery.parse_data()
        assert delivery.data is not None, delivery.invalid


def best_of(rounds: int, parse, count: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        gc.disable()
        started = time.process_time()
        parse()
        best = min(best, time.process_time() - started)
        gc.enable()
    return best / count * 1e6


def cpu_per_record(records: list[ConsumerRecord], spec: ConsumerSpec, rounds: int) -> float:
    return best_of(rounds, lambda: parse_all(records, spec), len(records))


def one_pass(records: list[ConsumerRecord], rounds: int) -> str:
    """Pydantic's own work per record, without the consumer's frames: the envelope then the data, against
    typed envelopes chosen by the type (looked up beforehand: a lower bound on any way to peek at it)."""
    keeping = {name: create_model(f"{name}Keeping", __base__=CloudEvent, parsed=(model, Field(validation_alias="data")))
               for name, model in EVENT_TYPES.items()}
    typed = {name: create_model(f"{name}Typed", __base__=CloudEvent, data=(model, ...)) for name, model in EVENT_TYPES.items()}
    types = [CloudEvent.model_validate_json(record.value).type for record in records]
    timed = {"two passes": best_of(rounds, lambda: _two_passes(records), len(records))}
    for label, models in (("one pass keeping the dict", keeping), ("one pass without the dict", typed)):
        pairs = [(models[name].__pydantic_validator__.validate_json, record.value) for name, record in zip(types, records)]
        timed[label] = best_of(rounds, lambda: _validate_each(pairs), len(records))
    return ", ".join(f"{label} {us:.2f}" for label, us in timed.items())


def _two_passes(records: list[ConsumerRecord]) -> None:
    """The same work as parse_all, without the consumer's own frames: the envelope, then its data."""
    envelope = CloudEvent.__pydantic_validator__.validate_json
    for record in records:
        event = envelope(record.value)
        EVENT_TYPES[event.type].__pydantic_validator__.validate_python(event.data)


def _validate_each(pairs) -> None:
    for validate, value in pairs:
        validate(value)  # dropped at once, as parse_all drops its deliveries


def main() -> None:
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(arguments[0]) if arguments else 100_000
    rounds = int(arguments[1]) if len(arguments) > 1 else 5
    spec = ConsumerSpec("bench-parse", [Topics.REPAYMENT_EVENTS], dict.fromkeys(EVENT_TYPES, None))
    records = [ConsumerRecord("t", 0, n, 0, 0, b"k", value, None, 1, len(value), []) for n, value in enumerate(values(count))]
    print(f"{len(records):,} records: {cpu_per_record(records, spec, rounds):.2f} us/record (best of {rounds})")
    if "--one-pass" in sys.argv:
        print(f"{one_pass(records, rounds)} us/record")


if __name__ == "__main__":
    main()
