"""Contact history is kept per loan until the retention period after its last attempt (Regulation F
1006.100), then purged with the loan's reminders."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from dunning_contracts.events import ReminderRequested
from dunning_notification.adapters import repository
from dunning_notification.domain.reminders import PENDING, SENT
from dunning_notification.handlers import attempt_row
from notification_testkit.events import reminder_requested, unique

START = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
FIVE_YEARS = timedelta(days=5 * 365)


async def store_reminder(session, loan_id: str, at: datetime, status: str = SENT) -> SimpleNamespace:
    data = ReminderRequested.model_validate(reminder_requested(loan_id, "borrower-1", at).data)
    await repository.add_reminders(session, [data], at)
    await session.execute(text("UPDATE notification.reminders SET status = :s WHERE reminder_id = :r"),
                          {"s": status, "r": data.reminder_id})
    return SimpleNamespace(reminder_id=data.reminder_id, loan_id=loan_id, borrower_id="borrower-1", channel="sms")


async def attempt(session, reminder, at: datetime) -> None:
    await repository.add_attempts(session, [attempt_row(reminder, at, "CN", SENT, provider="devprovider")])


async def rows_of(session, loan_id: str) -> tuple[int, int]:
    attempts = await session.scalar(text("SELECT count(*) FROM notification.contact_attempts WHERE loan_id = :l"), {"l": loan_id})
    reminders = await session.scalar(text("SELECT count(*) FROM notification.reminders WHERE loan_id = :l"), {"l": loan_id})
    return attempts, reminders


async def test_a_loans_history_is_kept_until_five_years_after_its_last_attempt_then_purged_whole(service_database):
    engine = create_async_engine(await service_database("notification"))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    old_loan, recent_loan, pending_loan = unique("loan"), unique("loan"), unique("loan")
    try:
        async with sessions() as session:
            first = await store_reminder(session, old_loan, START)
            await attempt(session, first, START)
            await attempt(session, await store_reminder(session, old_loan, START + timedelta(days=30)), START + timedelta(days=30))
            await attempt(session, await store_reminder(session, recent_loan, START), START)
            await attempt(session, await store_reminder(session, recent_loan, START + timedelta(days=400)), START + timedelta(days=400))
            await attempt(session, await store_reminder(session, pending_loan, START), START)
            await store_reminder(session, pending_loan, START + timedelta(days=1), status=PENDING)
            await session.commit()

        async with sessions() as session:
            # The first attempt of each loan is past retention: no loan loses a row while a later one is not.
            assert await repository.purge_history(session, START + FIVE_YEARS + timedelta(days=1), 100) == 0
            assert await rows_of(session, old_loan) == (2, 2)

            purged = await repository.purge_history(session, START + FIVE_YEARS + timedelta(days=31), 100)
            await session.commit()
            assert purged == 1
            assert await rows_of(session, old_loan) == (0, 0)
            assert await rows_of(session, recent_loan) == (2, 2), "its last attempt is not five years old yet"
            assert await rows_of(session, pending_loan) == (1, 2), "a reminder still waiting is activity on the debt"
    finally:
        await engine.dispose()
