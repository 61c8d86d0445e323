"""The rule sets of each jurisdiction, as numbers with the rule each comes from.

A borrower's `region` (from LoanBooked) chooses the set; an unknown region gets CN, the default market."""

from dataclasses import dataclass
from datetime import time


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    # Contact is allowed from `window_start` (inclusive) to `window_end` (exclusive), borrower local time.
    window_start: time
    window_end: time
    # Attempts per contact method per borrower-local day, counted across the platform (None: no cap).
    attempts_per_channel_per_day: int | None = None
    connected_calls_per_day: int | None = None
    # Regulation F style call frequency: at most N calls in a rolling 7 days, none for 7 days after a talk.
    calls_per_7_days: int | None = None
    quiet_days_after_conversation: int | None = None
    # How long contact history is kept (days) before it may be purged.
    retention_days: int = 5 * 365


# CN: quiet hours 22:00-08:00 local time, at most 3 connected voice calls and 6 attempts per contact
# method per day. These are the platform's CN defaults (issue 5), in line with the industry self-regulation
# of the National Internet Finance Association of China on overdue-debt collection (no harassing frequency,
# no contact at rest hours); a lender may only tighten them. Contact history is kept 5 years, the
# record-keeping period Chinese AML and credit-reporting rules ask of lenders.
CN = Jurisdiction(
    code="CN",
    window_start=time(8, 0),
    window_end=time(22, 0),
    attempts_per_channel_per_day=6,
    connected_calls_per_day=3,
    retention_days=5 * 365,
)

# US: Regulation F (12 CFR part 1006). 1006.6(b)(1)(i): before 8 a.m. and after 9 p.m. local time is
# presumed inconvenient. 1006.14(b)(2): more than 7 calls in 7 consecutive days, or a call within 7 days
# after a telephone conversation, is presumed harassment. 1006.100: records kept 3 years.
US = Jurisdiction(
    code="US",
    window_start=time(8, 0),
    window_end=time(21, 0),
    calls_per_7_days=7,
    quiet_days_after_conversation=7,
    retention_days=3 * 365,
)

JURISDICTIONS = {j.code: j for j in (CN, US)}


def jurisdiction_of(region: str | None) -> Jurisdiction:
    code = (region or "CN").upper().split("-")[0]
    return JURISDICTIONS.get(code, CN)
