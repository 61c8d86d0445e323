"""How big each measurement is. Every field can be set by `--kebab-name N` or `BENCH_UPPER_NAME=N`."""

import os
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Sizes:
    kafka_events: int = 100_000  # raw produce and consume+parse
    insert_rows: int = 200_000  # bare asyncpg executemany
    insert_batch: int = 1_000
    timers: int = 1_000_000  # pending timers in the bare SKIP LOCKED loop and the scheduler's table
    timer_batch: int = 1_000
    timer_steady_rate: int = 5_000  # timers/s falling due in the lateness phase
    timer_steady_seconds: int = 10
    http_calls: int = 20_000  # raw provider calls
    http_concurrency: int = 50
    ingestion_events: int = 100_000  # through the Kafka path
    ingestion_http_events: int = 50_000  # through POST /v1/repayment-events
    ingestion_http_batch: int = 500
    ingestion_http_concurrency: int = 4
    reminders: int = 20_000  # notification: guard + provider
    pipeline_loans: int = 100_000  # all overdue at once
    steady_rate: int = 1_000  # loans/s in the latency phase
    steady_seconds: int = 30
    drain_timeout: int = 600  # seconds a service measurement may wait for its last event
    replicas: int = 2  # the scaling rows run this many replicas of a service; 0 leaves them out


QUICK = Sizes(
    kafka_events=2_000,
    insert_rows=5_000,
    timers=10_000,
    timer_steady_rate=500,
    timer_steady_seconds=2,
    http_calls=300,
    ingestion_events=200,
    ingestion_http_events=200,
    ingestion_http_batch=100,
    reminders=50,
    pipeline_loans=50,
    steady_rate=20,
    steady_seconds=2,
    drain_timeout=60,
    replicas=0,
)


def option_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def env_name(field_name: str) -> str:
    return "BENCH_" + field_name.upper()


def resolve(base: Sizes, overrides: dict[str, int | None], environ=os.environ) -> Sizes:
    """`base`, then BENCH_* variables, then command-line options: the most specific wins."""
    chosen = {}
    for field in fields(Sizes):
        if environ.get(env_name(field.name)):
            chosen[field.name] = int(environ[env_name(field.name)])
        if overrides.get(field.name) is not None:
            chosen[field.name] = overrides[field.name]
    return replace(base, **chosen)


def all_fields() -> list[str]:
    return [field.name for field in fields(Sizes)]
