"""HTTP routes: reminders with their contact history, and borrowers' contact preferences."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from dunning_notification.adapters import repository
from dunning_notification.adapters.orm import ContactAttempt, ContactPreferences, Reminder
from dunning_notification.domain.contact import mask_address
from dunning_notification.entrypoints.schemas import (
    ID_CONSTRAINTS,
    AttemptView,
    ContactPreferencesIn,
    ContactPreferencesOut,
    ReminderList,
    ReminderView,
)
from dunning_platform.auth import require_scope
from dunning_platform.errors import NotFound
from dunning_platform.problems import problem_responses

router = APIRouter(prefix="/v1", tags=["notification"], responses=problem_responses())
BorrowerId = Annotated[str, Path(**ID_CONSTRAINTS)]


@router.get("/reminders", response_model=ReminderList, dependencies=[Depends(require_scope("cases:read"))])
async def list_reminders(
    request: Request,
    loan_id: str | None = Query(default=None, **ID_CONSTRAINTS),
    status: str | None = Query(default=None, pattern="^(pending|sent|delivered|failed|suppressed)$"),
    limit: int = Query(default=100, ge=1, le=1000),
) -> ReminderList:
    runtime = request.app.state.runtime
    vault = request.app.state.vault
    async with runtime.uow() as uow:
        rows = await repository.reminders(uow.session, loan_id=loan_id, status=status, limit=limit)
        attempts = await repository.attempts_of(uow.session, [r.reminder_id for r in rows])
        contacts = await repository.contacts_of(uow.session, vault, {r.borrower_id for r in rows})
        return ReminderList(items=[_view(r, attempts, contacts.get(r.borrower_id)) for r in rows])


def _view(reminder: Reminder, attempts: list[ContactAttempt], contact) -> ReminderView:
    history = [AttemptView.model_validate(a, from_attributes=True) for a in attempts if a.reminder_id == reminder.reminder_id]
    address = contact.address_for(reminder.channel) if contact else None
    return ReminderView.model_validate(
        {
            **{c: getattr(reminder, c) for c in ReminderView.model_fields if hasattr(reminder, c)},
            "next_attempt_at": reminder.next_attempt_at if reminder.status == "pending" else None,
            "to": mask_address(reminder.channel, address),
            "history": history,
        }
    )


@router.put(
    "/borrowers/{borrower_id}/contact-preferences",
    response_model=ContactPreferencesOut,
    dependencies=[Depends(require_scope("cases:write"))],
    responses=problem_responses(body=True),
)
async def put_contact_preferences(borrower_id: BorrowerId, body: ContactPreferencesIn, request: Request) -> ContactPreferencesOut:
    runtime = request.app.state.runtime
    async with runtime.uow() as uow:
        now = uow.clock.now()
        row = await repository.save_preferences(uow.session, borrower_id, _columns(body), now)
        # Deferred reminders meet the guard again at once: a lifted hold lets them go, an opt-out stops them.
        await repository.recheck_pending(uow.session, borrower_id, now)
        await uow.commit()
        return _preferences_view(row)


@router.get(
    "/borrowers/{borrower_id}/contact-preferences",
    response_model=ContactPreferencesOut,
    dependencies=[Depends(require_scope("cases:read"))],
    responses=problem_responses({404: "no contact preferences recorded for the borrower"}),
)
async def get_contact_preferences(borrower_id: BorrowerId, request: Request) -> ContactPreferencesOut:
    async with request.app.state.runtime.uow() as uow:
        row = await repository.preferences_row(uow.session, borrower_id)
        if row is None:
            raise NotFound(f"no contact preferences recorded for borrower {borrower_id!r}")
        return _preferences_view(row)


def _columns(body: ContactPreferencesIn) -> dict:
    hours = body.contact_hours
    return {
        "opted_out": sorted(set(body.opted_out)),
        "do_not_contact": body.do_not_contact,
        "preferred_channel": body.preferred_channel,
        "contact_from": hours.start if hours else None,
        "contact_until": hours.end if hours else None,
        "hold_until": body.hold_until,
    }


def _preferences_view(row: ContactPreferences) -> ContactPreferencesOut:
    hours = None
    if row.contact_from and row.contact_until:
        hours = {"from": row.contact_from.strftime("%H:%M"), "until": row.contact_until.strftime("%H:%M")}
    return ContactPreferencesOut(
        borrower_id=row.borrower_id,
        opted_out=list(row.opted_out or ()),
        do_not_contact=row.do_not_contact,
        preferred_channel=row.preferred_channel,
        contact_hours=hours,
        hold_until=row.hold_until,
        updated_at=row.updated_at,
    )
