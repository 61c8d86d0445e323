"""One measurement's outcome. A measurement that cannot run is a result too: "not measured: <reason>"."""

from dataclasses import dataclass, field


class NotMeasured(Exception):
    """Raised by a measurement that cannot run yet (a service not written, a hook missing)."""


@dataclass
class Result:
    key: str  # stable id, e.g. "baseline.kafka_produce"
    name: str  # what the table shows
    count: int = 0
    seconds: float = 0.0
    unit: str = "events/s"
    baseline: str | None = None  # key of the result this one is a ratio of
    goal: str = ""
    notes: list[str] = field(default_factory=list)
    extra: dict[str, float] = field(default_factory=dict)  # p50_ms, p99_ms, peak_rss_mb_<service>, ...
    samples_ms: list[float] = field(default_factory=list)  # latencies, for the chart
    skipped: str | None = None

    @property
    def rate(self) -> float | None:
        if self.skipped or self.seconds <= 0:
            return None
        return self.count / self.seconds


def skipped(key: str, name: str, reason: str, *, baseline: str | None = None, goal: str = "") -> Result:
    return Result(key, name, baseline=baseline, goal=goal, skipped=reason)


def ratio(result: Result, results: dict[str, Result]) -> float | None:
    """The result's rate over its baseline's rate, both from this run."""
    base = results.get(result.baseline) if result.baseline else None
    if result.rate is None or base is None or not base.rate:
        return None
    return result.rate / base.rate


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile: the smallest sample at or above q of them (q in 0..100)."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]
