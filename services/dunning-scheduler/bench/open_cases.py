"""Python per new case, without a database: `handlers.open_case` on N new overdue loans of one wave with a
stub unit of work (deciding, planning, timer rows, history), as CPU microseconds per case.

    .venv/bin/python services/dunning-scheduler/bench/open_cases.py [--cases 3000] [--profile]
"""

import argparse
import asyncio
import cProfile
import pstats
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dunning_contracts.events import LoanOverdue
from dunning_scheduler import handlers
from dunning_scheduler.casework import Context, Writes
from dunning_scheduler.domain.borrower import DEFAULT_CONTEXT
from dunning_scheduler.domain.default_policy import DEFAULT_POLICY
from dunning_scheduler.domain.policy import VersionedPolicy

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return NOW


class StubUnitOfWork:
    """What opening a case in a wave touches: the clock and emit (escalations); no session."""

    session = None
    clock = FixedClock()

    def emit(self, *_) -> None:
        pass

    def signal_after_commit(self, *_) -> None:
        pass


def notices(n: int) -> list[LoanOverdue]:
    return [
        LoanOverdue(
            loan_id=f"L{i}", borrower_id=f"b{i}", lender="lender-1", product="cash-loan", currency="CNY",
            overdue_since=NOW.date() - timedelta(days=1), days_past_due=1, overdue_amount=Decimal("1030.00"),
            penalty_accrued=Decimal("0.52"), outstanding_balance=Decimal("3090.00"), as_of=NOW,
        )
        for i in range(n)
    ]


async def open_all(wave: list[LoanOverdue]) -> None:
    uow, policy, writes = StubUnitOfWork(), VersionedPolicy(version=1, policy=DEFAULT_POLICY), Writes()
    for notice in wave:
        await handlers.open_case(notice, Context(uow, policy, DEFAULT_CONTEXT, NOW, writes), past_cures=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--profile", action="store_true", help="cProfile the run; prints the top functions")
    args = parser.parse_args()
    wave = notices(args.cases)
    asyncio.run(open_all(wave[:100]))  # warm up
    started = time.process_time()
    asyncio.run(open_all(wave))
    print(f"{args.cases:,} new cases: {(time.process_time() - started) / args.cases * 1e6:.0f} us of CPU per case")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(asyncio.run, open_all(wave))
        pstats.Stats(profile).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
