"""LoanBooked teaches the scheduler where the borrower lives and when installments fall due."""

from datetime import timedelta

from scheduler_testkit import START, booked, new_loan_id, overdue


async def test_a_booked_loan_gets_reminders_three_days_and_one_day_before_its_due_date(scheduler):
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanBooked", booked(loan_id, START.date() + timedelta(days=5))))

    scheduler.clock.advance(days=5)
    await scheduler.settled()

    reminders = await scheduler.bus.reminders(loan_id)
    assert [(r["template"], r["case_id"]) for r in reminders] == [("pre_due_reminder", f"pre-due:{loan_id}")] * 2
    assert [r["not_before"][:10] for r in reminders] == ["2026-11-29", "2026-12-01"]
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
