"""Every contact is on record: the agents' calls and field visits stand in the evidence file with the
reminders, against real PostgreSQL and a real broker."""

import uuid
from datetime import timedelta

from dunning_legal.domain.evidence import digest

REMINDER_FIELDS = {
    "reminder_id", "channel", "status", "reason", "provider", "provider_message_id", "occurred_at", "event"
}


def new_task_id() -> str:
    return f"T-{uuid.uuid4().hex[:10]}"


def what_and_which(contact: dict) -> tuple[str, str]:
    return contact.get("kind", "reminder"), contact.get("reminder_id") or contact["task_id"]


async def evidence_file(legal, loan_id: str, **params) -> dict:
    legal_case_id = (await legal.referral_of(loan_id))["legal_case_id"]
    response = await legal.client.get(f"/v1/legal-cases/{legal_case_id}/file", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_file_lists_the_reminders_and_the_agents_call_in_the_order_they_happened(
    legal, events, case_events, clock
):
    loan_id, task_id, now = events.new_loan_id(), new_task_id(), clock.now()
    first, last = (
        events.reminder_sent(loan_id).model_copy(update={"occurred_at": now - timedelta(days=days)}) for days in (3, 1)
    )
    call = case_events.contact_attempted(loan_id, task_id, now - timedelta(days=2))
    sent = [await legal.send("ReminderSent", first), await legal.send("ContactAttempted", call)]
    sent += [await legal.send("ReminderSent", last), await legal.send("CaseEscalated", events.escalation(loan_id))]
    await legal.handled(*sent)

    bundle = await evidence_file(legal, loan_id)

    contacts = bundle["parts"]["contact_attempts"]
    assert [what_and_which(c) for c in contacts] == [
        ("reminder", first.reminder_id),
        ("agent_call", task_id),
        ("reminder", last.reminder_id),
    ]
    assert contacts[1] == {
        "kind": "agent_call",
        "channel": "phone",
        "task_id": task_id,
        "case_id": f"C-{loan_id}",
        "agent_id": case_events.AGENT,
        "connected": False,
        "outcome": "no_answer",
        "occurred_at": call.occurred_at.isoformat(),
        "event": f"{sent[1].source}#{sent[1].id}",
    }
    # A reminder reads as it did before agents' contacts were kept: files cited then keep their digests.
    assert set(contacts[0]) == set(contacts[2]) == REMINDER_FIELDS
    assert bundle["digests"]["parts"]["contact_attempts"] == digest(contacts)


async def test_the_same_visit_reported_twice_is_on_the_file_once(legal, events, case_events, clock):
    loan_id, task_id, at = events.new_loan_id(), new_task_id(), clock.now() - timedelta(hours=5)
    visit = case_events.contact_attempted(loan_id, task_id, at, channel="field", outcome="contacted")
    first = await legal.send("ContactAttempted", visit)
    redelivered = await legal.send("ContactAttempted", visit, event=first)
    # The scheduler reporting the same task again: a new envelope, the same task.
    reported_again = await legal.send("ContactAttempted", visit)
    escalated = await legal.send("CaseEscalated", events.escalation(loan_id))
    await legal.handled(first, redelivered, reported_again, escalated)

    contacts = (await evidence_file(legal, loan_id))["parts"]["contact_attempts"]

    assert [(c["kind"], c["task_id"], c["connected"], c["event"]) for c in contacts] == [
        ("field_visit", task_id, True, f"{first.source}#{first.id}")
    ]
    rows = await legal.fetch_one("SELECT count(*) AS n FROM legal.contact_attempts WHERE task_id = $1", task_id)
    assert rows["n"] == 1


async def test_a_call_heard_after_the_referral_was_opened_shows_when_the_file_is_read_later(
    legal, events, case_events, clock
):
    loan_id, task_id = events.new_loan_id(), new_task_id()
    reminder = events.reminder_sent(loan_id)
    escalation = events.escalation(loan_id)
    await legal.handled(await legal.send("ReminderSent", reminder), await legal.send("CaseEscalated", escalation))
    opened_at = (await legal.referral_of(loan_id))["opened_at"]

    clock.advance(days=1)
    late_call = case_events.contact_attempted(loan_id, task_id, clock.now() - timedelta(hours=3), outcome="refused")
    await legal.handled(await legal.send("ContactAttempted", late_call))

    as_opened = await evidence_file(legal, loan_id, as_of=opened_at)
    now = await evidence_file(legal, loan_id)
    assert [what_and_which(c) for c in as_opened["parts"]["contact_attempts"]] == [("reminder", reminder.reminder_id)]
    assert [what_and_which(c) for c in now["parts"]["contact_attempts"]] == [
        ("reminder", reminder.reminder_id),
        ("agent_call", task_id),
    ]
    assert now["file_digest"] != as_opened["file_digest"]
