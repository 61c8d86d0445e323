"""An overdue notice may reach the scheduler before the loan's booking (another topic, no order between
them). Until the booking says where the borrower lives, the scheduler holds no reminder back for a contact
window on a clock that may not be the borrower's: notification, which knows the borrower's zone, guards
the hours."""

from datetime import UTC, datetime, timedelta

from scheduler_testkit import booked, new_loan_id, overdue

NIGHT_IN_SHANGHAI = datetime(2026, 11, 27, 13, 30, tzinfo=UTC)  # 21:30 there, after the policy's 21:00
NEXT_SHANGHAI_MORNING = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)  # 08:00 there


async def first_reminders(scheduler, loan_id: str) -> set[datetime]:
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 1, as_of=NIGHT_IN_SHANGHAI)))
    await scheduler.settled()
    return {datetime.fromisoformat(r["not_before"]) for r in await scheduler.bus.reminders(loan_id)}


async def test_a_borrower_whose_zone_is_not_known_yet_is_not_held_to_the_home_markets_evening(scheduler):
    scheduler.clock.set(NIGHT_IN_SHANGHAI)

    assert await first_reminders(scheduler, new_loan_id()) == {NIGHT_IN_SHANGHAI}


async def test_a_borrower_known_to_live_in_shanghai_is_reminded_the_next_morning(scheduler):
    scheduler.clock.set(NIGHT_IN_SHANGHAI)
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanBooked", booked(loan_id, NIGHT_IN_SHANGHAI.date() - timedelta(days=1))))

    assert await first_reminders(scheduler, loan_id) == {NEXT_SHANGHAI_MORNING}
