"""The daily aging sweep in SQL: set-based, a chunk of loans per statement, no row-by-row Python.

It applies the same rules as the domain ledger (see domain/ledger.py and domain/figures.py): for
installments past their grace with unpaid principal, one `round(unpaid principal x rate)` per day
since penalty was last accrued; then each loan's figures from its installments. Only loans whose
`next_review_on` has come are visited: overdue loans that still accrue, and loans whose next
installment's grace ends today."""

from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Text

# The latest calendar day anywhere on earth (UTC+14) is at most one day after the UTC date.
_CANDIDATES = text(
    """
    SELECT loan_id FROM loans
    WHERE closed_at IS NULL AND next_review_on <= :latest_day
    ORDER BY loan_id
    """
)

_LOCK = text("SELECT loan_id FROM loans WHERE loan_id = ANY(:ids) ORDER BY loan_id FOR UPDATE").bindparams(
    bindparam("ids", type_=ARRAY(Text))
)

_DUE = """
    due AS (
        SELECT loan_id, grace_days, penalty_rate_daily, minor_digits, reported_overdue,
               (CAST(:now AS timestamptz) AT TIME ZONE timezone)::date AS today
        FROM loans
        WHERE loan_id = ANY(:ids) AND closed_at IS NULL
          AND next_review_on <= (CAST(:now AS timestamptz) AT TIME ZONE timezone)::date
    )
"""

_ACCRUE = text(
    "WITH"
    + _DUE
    + """
    UPDATE installments AS i
    SET penalty_accrued = i.penalty_accrued
            + (d.today - i.accrued_through)
              * round((i.principal_due - i.principal_paid) * d.penalty_rate_daily, d.minor_digits),
        accrued_through = d.today
    FROM due AS d
    WHERE i.loan_id = d.loan_id
      AND i.principal_paid < i.principal_due
      AND d.today - i.due_date > d.grace_days
      AND i.accrued_through < d.today
    """
).bindparams(bindparam("ids", type_=ARRAY(Text)))

_FIGURES = text(
    "WITH"
    + _DUE
    + """,
    parts AS (
        SELECT i.loan_id, i.due_date, i.principal_due - i.principal_paid AS principal_left,
               i.principal_due - i.principal_paid + i.interest_due - i.interest_paid
                   + i.penalty_accrued - i.penalty_paid AS left_total,
               i.penalty_accrued, i.penalty_accrued - i.penalty_paid AS penalty_left,
               d.today, d.grace_days, d.reported_overdue, d.today - i.due_date > d.grace_days AS past_grace
        FROM installments AS i JOIN due AS d ON d.loan_id = i.loan_id
    ),
    totals AS (
        SELECT loan_id, today, reported_overdue,
               coalesce(sum(left_total) FILTER (WHERE past_grace AND left_total > 0), 0) AS overdue_amount,
               min(due_date) FILTER (WHERE past_grace AND left_total > 0) AS overdue_since,
               sum(penalty_accrued) AS penalty_accrued,
               sum(penalty_left) AS penalty_outstanding,
               sum(left_total) AS outstanding_balance,
               min(CASE WHEN left_total <= 0 THEN NULL
                        WHEN NOT past_grace THEN due_date + grace_days + 1
                        WHEN principal_left > 0 THEN today + 1 END) AS next_review_on
        FROM parts GROUP BY loan_id, today, reported_overdue
    ),
    updated AS (
        UPDATE loans AS l
        SET as_of = t.today,
            overdue_amount = t.overdue_amount,
            overdue_since = t.overdue_since,
            days_past_due = coalesce(t.today - t.overdue_since, 0),
            penalty_accrued = t.penalty_accrued,
            penalty_outstanding = t.penalty_outstanding,
            outstanding_balance = t.outstanding_balance,
            next_review_on = t.next_review_on,
            reported_overdue = t.overdue_amount,
            updated_at = now()
        FROM totals AS t
        WHERE l.loan_id = t.loan_id
        RETURNING l.loan_id, l.borrower_id, l.lender, l.product, l.currency, l.overdue_since, l.days_past_due,
                  l.overdue_amount, l.penalty_accrued, l.outstanding_balance, t.reported_overdue AS reported_before
    )
    SELECT * FROM updated WHERE overdue_amount <> reported_before
    """
).bindparams(bindparam("ids", type_=ARRAY(Text)))


async def candidates(session: AsyncSession, now: datetime) -> list[str]:
    latest_day: date = now.date() + timedelta(days=1)
    return list((await session.scalars(_CANDIDATES, {"latest_day": latest_day})).all())


async def age(session: AsyncSession, loan_ids: list[str], now: datetime) -> list:
    """Age these loans as of `now`; return those whose overdue amount the bus has not heard yet."""
    await session.execute(_LOCK, {"ids": loan_ids})
    await session.execute(_ACCRUE, {"ids": loan_ids, "now": now})
    return list((await session.execute(_FIGURES, {"ids": loan_ids, "now": now})).all())


