"""Agents' calls and field visits reported by the scheduler: kept so that the guard counts them with the
reminders against the borrower's caps (attempts per method per day, connected calls per day, US 7 calls
in 7 days and 7 quiet days after a conversation)."""

import logging

from dunning_contracts import CloudEvent
from dunning_contracts.events import ContactAttempted
from dunning_messaging.uow import UnitOfWork
from dunning_notification.adapters.agent_contacts import borrower_of, forget_before, save_agent_contact
from dunning_notification.domain.history import LOOKBACK

log = logging.getLogger(__name__)


async def on_contact_attempted(uow: UnitOfWork, event: CloudEvent, data: ContactAttempted) -> None:
    borrower_id = await borrower_of(uow.session, data)
    if borrower_id is None:
        log.warning("an agent's contact for a loan never booked here; not counted", extra={"loan_id": data.loan_id})
        return
    await save_agent_contact(uow.session, data, borrower_id)
    await forget_before(uow.session, borrower_id, uow.clock.now() - LOOKBACK)
