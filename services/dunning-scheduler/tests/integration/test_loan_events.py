"""Before a loan is overdue: closing it early cancels its pre-due reminders, and a bounced auto-debit
gets one SMS at once."""

from datetime import datetime, timedelta

from dunning_contracts.events import LoanClosed, OverdueCleared, RepaymentFailed
from scheduler_testkit import START, booked, new_loan_id, overdue


def closed(loan_id: str) -> LoanClosed:
    return LoanClosed(loan_id=loan_id, reason="repaid", closed_at=START)


def failed(loan_id: str, seq: int = 1) -> RepaymentFailed:
    return RepaymentFailed(loan_id=loan_id, seq=seq, reason="insufficient funds", failed_at=START)


async def book(scheduler, due_in_days: int = 5) -> str:
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanBooked", booked(loan_id, START.date() + timedelta(days=due_in_days))))
    return loan_id


async def pending_pre_due(scheduler, loan_id: str) -> int:
    return await scheduler.scalar(
        "SELECT count(*) FROM scheduler.timers WHERE loan_id = $1 AND case_id IS NULL AND status = 'pending'", loan_id
    )


async def test_a_loan_closed_before_its_due_date_gets_no_pre_due_reminder(scheduler):
    loan_id = await book(scheduler)
    planned = await pending_pre_due(scheduler, loan_id)

    await scheduler.handled(await scheduler.bus.send("LoanClosed", closed(loan_id)))
    scheduler.clock.advance(days=6)
    await scheduler.settled()

    assert (planned, await pending_pre_due(scheduler, loan_id)) == (2, 0)
    assert await scheduler.bus.reminders(loan_id) == []
    reason = await scheduler.scalar("SELECT reason FROM scheduler.loan_history WHERE loan_id = $1", loan_id)
    assert reason.startswith("loan closed (repaid)") and "2 pending pre-due reminders cancelled" in reason


async def test_a_clearance_after_the_loan_closed_plans_no_pre_due_reminders_again(scheduler):
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 2)))
    await scheduler.handled(await scheduler.bus.send("LoanBooked", booked(loan_id, START.date() + timedelta(days=20))))

    await scheduler.handled(await scheduler.bus.send("LoanClosed", closed(loan_id)))
    await scheduler.handled(await scheduler.bus.send("OverdueCleared", overdue_cleared(loan_id)))

    assert await pending_pre_due(scheduler, loan_id) == 0


def overdue_cleared(loan_id: str) -> OverdueCleared:
    return OverdueCleared(loan_id=loan_id, reason="closed", cleared_at=START)


async def test_a_failed_auto_debit_yields_one_sms_even_when_reported_twice(scheduler):
    loan_id = await book(scheduler)

    first = await scheduler.bus.send("RepaymentFailed", failed(loan_id))
    await scheduler.bus.send("RepaymentFailed", failed(loan_id), event=first)  # redelivered as is
    again = await scheduler.bus.send("RepaymentFailed", failed(loan_id))  # reported again under a new id
    await scheduler.handled(first, again)
    await scheduler.settled()

    notices = [r for r in await scheduler.bus.reminders(loan_id) if r["template"] == "auto_debit_failed"]
    assert [(n["channel"], n["case_id"], n["locale"]) for n in notices] == [("sms", f"pre-due:{loan_id}", "zh-CN")]
    assert datetime.fromisoformat(notices[0]["not_before"]) == START  # 17:00 in Shanghai: inside the window


async def test_a_failed_auto_debit_of_a_loan_with_an_open_case_adds_no_sms(scheduler):
    loan_id = await book(scheduler, due_in_days=-3)
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 3)))

    await scheduler.handled(await scheduler.bus.send("RepaymentFailed", failed(loan_id)))
    await scheduler.settled()

    assert "auto_debit_failed" not in {r["template"] for r in await scheduler.bus.reminders(loan_id)}
    reason = await scheduler.scalar("SELECT reason FROM scheduler.loan_history WHERE loan_id = $1", loan_id)
    assert "no SMS: the loan has an open case" in reason
