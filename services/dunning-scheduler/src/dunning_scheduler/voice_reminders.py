"""Voice reminders reported by notification (ReminderSent): kept per borrower, so that an agent's claim
counts them with the agents' own calls against the borrower's call caps (domain/agent_contact.py)."""

import logging

from dunning_contracts import CloudEvent
from dunning_contracts.events import ReminderSent
from dunning_messaging import UnitOfWork
from dunning_scheduler.adapters.voice_calls import borrowers_of_loans, forget_voice_reminders, save_voice_reminders
from dunning_scheduler.domain.agent_contact import LOOKBACK

log = logging.getLogger(__name__)

# A reminder that reached a provider was a call placed; a voice reminder delivered was answered.
PLACED = frozenset({"sent", "delivered", "failed"})
ANSWERED = "delivered"


async def on_reminders_sent(uow: UnitOfWork, events: list[tuple[CloudEvent, ReminderSent]]) -> None:
    calls = voice_calls([data for _, data in events])
    if not calls:
        return
    borrowers = await borrowers_of_loans(uow.session, {call["loan_id"] for call in calls.values()})
    unknown = [call["loan_id"] for call in calls.values() if call["loan_id"] not in borrowers]
    if unknown:
        log.warning("voice reminders of loans the scheduler does not know; not counted", extra={"loan_ids": unknown})
    rows = [call | {"borrower_id": borrowers[call["loan_id"]]} for call in calls.values() if call["loan_id"] in borrowers]
    await save_voice_reminders(uow.session, rows)
    await forget_voice_reminders(uow.session, {row["borrower_id"] for row in rows}, uow.clock.now() - LOOKBACK)


def cannot_be_voice(value: bytes) -> bool:
    """Whether a ReminderSent record's bytes cannot hold a voice reminder, so the consumer leaves it unread.
    JSON writes the channel `"voice"` literally unless a letter of it is escaped (`\\u0076`): bytes with
    neither the word nor an escape are another channel's report. SMS, push, e-mail and letters are most of
    the topic (two reports for every loan falling overdue), and here only voice calls count."""
    return b"voice" not in value and b"\\u" not in value


def voice_calls(reports: list[ReminderSent]) -> dict[str, dict]:
    """One row per voice reminder of the run: its first placing and its first answer."""
    calls: dict[str, dict] = {}
    for report in reports:
        if report.channel != "voice" or report.status not in PLACED:
            continue
        call = calls.setdefault(report.reminder_id, {"reminder_id": report.reminder_id, "loan_id": report.loan_id,
                                                     "attempted_at": report.occurred_at, "connected_at": None})
        call["attempted_at"] = min(call["attempted_at"], report.occurred_at)
        if report.status == ANSWERED:
            call["connected_at"] = min(filter(None, (call["connected_at"], report.occurred_at)))
    return calls
