"""LoanBooked teaches the scheduler where the borrower lives and when installments fall due."""

from datetime import timedelta
from decimal import Decimal

from dunning_contracts.events import Installment, LoanBooked
from scheduler_testkit import START, booked, new_loan_id, overdue


async def test_a_booked_loan_gets_reminders_three_days_and_one_day_before_its_due_date(scheduler):
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanBooked", booked(loan_id, START.date() + timedelta(days=5))))

    scheduler.clock.advance(days=5)
    await scheduler.settled()

    reminders = await scheduler.bus.reminders(loan_id)
    assert [(r["template"], r["case_id"]) for r in reminders] == [("pre_due_reminder", f"pre-due:{loan_id}")] * 2
    # Due together once the clock jumps: two firing loops may emit them in either order.
    assert sorted(r["not_before"][:10] for r in reminders) == ["2026-11-29", "2026-12-01"]
    stored = await scheduler.scalar("SELECT row_to_json(l)::text FROM scheduler.loans l WHERE loan_id = $1", loan_id)
    assert "Wang" not in stored and "+86" not in stored and "@" not in stored


async def test_reminders_speak_the_borrowers_language(scheduler):
    loan_id = new_loan_id()
    loan = booked(loan_id, START.date() - timedelta(days=1), timezone="Asia/Hong_Kong", locale="en")
    await scheduler.handled(await scheduler.bus.send("LoanBooked", loan))
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 1)))
    await scheduler.settled()

    assert {r["locale"] for r in await scheduler.bus.reminders(loan_id)} == {"en"}


async def test_a_loan_booked_after_its_overdue_notice_still_sets_the_language(scheduler):
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 1)))
    loan = booked(loan_id, START.date() - timedelta(days=1), locale="en")
    await scheduler.handled(await scheduler.bus.send("LoanBooked", loan))

    scheduler.clock.advance(days=2)
    await scheduler.settled()

    reminders = await scheduler.bus.reminders(loan_id)
    assert [r["locale"] for r in reminders] == ["zh-CN", "zh-CN", "en"]


def monthly(loan_id: str, installments: int) -> LoanBooked:
    """Due in 5 days, then every 30 days."""
    loan = booked(loan_id, START.date() + timedelta(days=5))
    dates = [START.date() + timedelta(days=5 + 30 * n) for n in range(installments)]
    schedule = [Installment(seq=n + 1, due_date=d, principal_due=Decimal("250"), interest_due=Decimal("5")) for n, d in enumerate(dates)]
    return loan.model_copy(update={"installments": schedule})


async def pending_pre_due(scheduler, loan_id: str) -> list[tuple[str, str]]:
    rows = await scheduler.fetch(
        "SELECT kind, to_char(due_at AT TIME ZONE 'Asia/Shanghai', 'MM-DD') AS day FROM scheduler.timers"
        " WHERE loan_id = $1 AND case_id IS NULL AND status = 'pending' ORDER BY due_at, kind", loan_id,
    )
    return [(row["kind"], row["day"]) for row in rows]


async def test_a_long_loan_holds_its_next_installments_reminders_and_a_checkpoint_not_the_whole_schedule(scheduler):
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanBooked", monthly(loan_id, 24)))
    assert await pending_pre_due(scheduler, loan_id) == [("reminder", "11-29"), ("pre_due_next", "12-01"), ("reminder", "12-01")]

    for days in (5, 30):  # the checkpoint fires on time, before the next installment's reminders are due
        scheduler.clock.advance(days=days)
        await scheduler.settled()

    reminders = await scheduler.bus.reminders(loan_id)
    assert sorted(r["not_before"][:10] for r in reminders) == ["2026-11-29", "2026-12-01", "2026-12-29", "2026-12-31"]
    assert await pending_pre_due(scheduler, loan_id) == [("reminder", "01-28"), ("pre_due_next", "01-30"), ("reminder", "01-30")]


async def test_a_checkpoint_that_finds_the_loan_in_a_case_plans_nothing(scheduler):
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanBooked", monthly(loan_id, 3)))
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 1)))
    # The case's opening cancelled the checkpoint; as if it had fired at the same time instead:
    await scheduler.execute("UPDATE scheduler.timers SET status = 'pending' WHERE loan_id = $1 AND kind = 'pre_due_next'", loan_id)

    scheduler.clock.advance(days=10)
    await scheduler.settled()

    fired = await scheduler.scalar("SELECT status FROM scheduler.timers WHERE loan_id = $1 AND kind = 'pre_due_next'", loan_id)
    assert (fired, await pending_pre_due(scheduler, loan_id)) == ("fired", [])
