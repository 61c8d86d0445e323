"""The scheduler's own metrics, beside the platform's."""

from datetime import datetime

from prometheus_client import Counter, Histogram

TIMER_LATENESS = Histogram(
    "scheduler_timer_lateness_seconds",
    "How long after its due time a timer fired",
    ["kind"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)
TIMERS_FIRED = Counter("scheduler_timers_fired_total", "Timers fired", ["kind"])


def observe_fired(timers: list, committed_at: datetime) -> None:
    """Timers (rows or mappings with `kind` and `due_at`) fired as of `committed_at`."""
    # Labels looked up once per kind, not per timer: a batch is a thousand observations.
    by_kind: dict[str, list] = {}
    for timer in timers:
        by_kind.setdefault(timer["kind"], []).append(timer["due_at"])
    for kind, due_ats in by_kind.items():
        lateness = TIMER_LATENESS.labels(kind)
        for due_at in due_ats:
            lateness.observe(max((committed_at - due_at).total_seconds(), 0.0))
        TIMERS_FIRED.labels(kind).inc(len(due_ats))
