"""An interpretable risk scorecard: points per factor, added up, banded. Every factor is shown with
the case, so a collector (or an auditor) can see why a case ranks where it does."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

# (lower bound, points): the first row whose bound the value reaches, from the top.
DPD_POINTS = ((90, 60), (31, 40), (16, 25), (1, 10), (0, 0))
AMOUNT_POINTS = ((Decimal("20000"), 35), (Decimal("5000"), 25), (Decimal("1000"), 15), (Decimal("0"), 5))
OUTCOME_POINTS = {"wrong_number": 15, "refused": 15, "no_answer": 4, "dispute": 5, "hardship": 5, "contacted": -5, "promise": -10}
BROKEN_PROMISE_POINTS, BROKEN_PROMISE_CAP = 15, 45
PAST_CURE_POINTS, PAST_CURE_CAP = -10, -20
BANDS = ((80, "high"), (40, "medium"), (0, "low"))


@dataclass(frozen=True)
class Factor:
    name: str
    value: str
    points: int


@dataclass(frozen=True)
class RiskScore:
    points: int
    band: str
    factors: tuple[Factor, ...]


def _from_table(table, value) -> int:
    return next(points for bound, points in table if value >= bound)


def score(
    days_past_due: int,
    overdue_amount: Decimal,
    broken_promises: int = 0,
    outcomes: Mapping[str, int] | None = None,
    past_cures: int = 0,
) -> RiskScore:
    factors = [
        Factor("days_past_due", str(days_past_due), _from_table(DPD_POINTS, days_past_due)),
        Factor("overdue_amount", str(overdue_amount), _from_table(AMOUNT_POINTS, overdue_amount)),
        Factor("broken_promises", str(broken_promises), min(broken_promises * BROKEN_PROMISE_POINTS, BROKEN_PROMISE_CAP)),
        Factor("past_cures", str(past_cures), max(past_cures * PAST_CURE_POINTS, PAST_CURE_CAP)),
    ]
    for outcome, count in sorted((outcomes or {}).items()):
        if outcome in OUTCOME_POINTS and count:
            factors.append(Factor(f"contact_{outcome}", str(count), OUTCOME_POINTS[outcome] * min(count, 3)))
    points = max(sum(f.points for f in factors), 0)
    return RiskScore(points, _from_table(BANDS, points), tuple(factors))
