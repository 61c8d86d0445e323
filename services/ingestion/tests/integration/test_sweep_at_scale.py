"""The daily sweep over many loans: set-based, so its time grows with the loans it must visit.

INGESTION_SWEEP_LOANS sets the size (default 20,000; the bar is 1,000,000 with 10% overdue in under 60 s):
    INGESTION_SWEEP_LOANS=1000000 .venv/bin/pytest services/ingestion/tests/integration/test_sweep_at_scale.py -s
"""

import os
import time

from sqlalchemy import text

from dunning_ingestion.aging import run_aging_sweep

LOANS = int(os.environ.get("INGESTION_SWEEP_LOANS", "20000"))
LIMIT_SECONDS = 60 * LOANS / 1_000_000 + 5

# Every tenth loan fell due five days ago and is unpaid; the others fall due one day in 31, from yesterday
# on (those due yesterday become overdue today). All were aged yesterday, and the bus heard those figures.
SEED = """
INSERT INTO loans (loan_id, lender, product, currency, minor_digits, principal, booked_at, borrower_id, locale,
                   timezone, region, grace_days, penalty_rate_daily, waterfall, schedule_time, schedule_event_id,
                   as_of, overdue_amount, overdue_since, days_past_due, next_review_on, reported_overdue)
SELECT 'scale-' || n, 'acme', 'cash', 'CNY', 2, 3000, now(), 'b-' || n, 'zh-CN', 'Asia/Shanghai', 'CN', 0,
       0.0005, 'penalty,interest,principal', now(), 'e-' || n, CAST(:today AS date) - 1,
       CASE WHEN n % 10 = 0 THEN 1032.00 ELSE 0 END,
       CASE WHEN n % 10 = 0 THEN CAST(:today AS date) - 5 END,
       CASE WHEN n % 10 = 0 THEN 4 ELSE 0 END,
       CASE WHEN n % 10 = 0 THEN CAST(:today AS date) ELSE CAST(:today AS date) + n % 31 END,
       CASE WHEN n % 10 = 0 THEN 1032.00 ELSE 0 END
FROM generate_series(1, :loans) AS n;

INSERT INTO installments (loan_id, seq, due_date, principal_due, interest_due, penalty_accrued, accrued_through)
SELECT 'scale-' || n, seq,
       CASE WHEN n % 10 = 0 THEN CAST(:today AS date) - 5 ELSE CAST(:today AS date) - 1 + n % 31 END + 30 * (seq - 1),
       1000, 30,
       CASE WHEN n % 10 = 0 AND seq = 1 THEN 2.00 ELSE 0 END,
       CASE WHEN n % 10 = 0 AND seq = 1 THEN CAST(:today AS date) - 1 ELSE (CASE WHEN n % 10 = 0 THEN CAST(:today AS date) - 5 ELSE CAST(:today AS date) - 1 + n % 31 END) + 30 * (seq - 1) END
FROM generate_series(1, :loans) AS n, generate_series(1, 3) AS seq;
"""


async def test_the_sweep_ages_every_overdue_loan_and_announces_each_changed_amount(ingestion, clock):
    app, _ = ingestion
    runtime = app.state.runtime
    today = runtime.clock.now().astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date()
    async with runtime.session_factory() as session:
        for statement in SEED.split(";\n\n"):
            await session.execute(text(statement), {"today": today, "loans": LOANS})
        await session.execute(text("ANALYZE loans"))
        await session.execute(text("ANALYZE installments"))
        await session.commit()

    started = time.perf_counter()
    result = await run_aging_sweep(runtime)
    seconds = time.perf_counter() - started

    print(f"\naging sweep: {LOANS:,} loans, {result.loans_aged:,} visited, {result.notices:,} notices, {seconds:.1f} s")
    falling_due = sum(1 for n in range(1, LOANS + 1) if n % 10 and n % 31 == 0)
    assert result.notices == LOANS // 10 + falling_due
    assert seconds < LIMIT_SECONDS
    async with runtime.session_factory() as session:
        amounts = (await session.execute(text("SELECT DISTINCT overdue_amount, days_past_due FROM loans WHERE loan_id LIKE 'scale-%' AND overdue_amount > 0"))).all()
    # 1000 + 30 + five days of 0.50 for the old ones; 1000 + 30 + one day for those that fell due yesterday
    assert sorted((str(a), d) for a, d in amounts) == [("1030.50", 1), ("1032.50", 5)]
