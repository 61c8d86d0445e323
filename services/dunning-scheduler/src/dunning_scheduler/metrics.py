"""The scheduler's own metrics, beside the platform's."""

from prometheus_client import Counter, Histogram

TIMER_LATENESS = Histogram(
    "scheduler_timer_lateness_seconds",
    "How long after its due time a timer fired",
    ["kind"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)
TIMERS_FIRED = Counter("scheduler_timers_fired_total", "Timers fired", ["kind"])
