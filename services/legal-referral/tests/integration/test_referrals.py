"""Legal referral against real PostgreSQL and a real broker, driven over the bus like the other services do."""

from datetime import timedelta

from dunning_legal.domain.evidence import digest
from dunning_legal.referrals import legal_case_id_for


async def test_an_escalation_to_legal_opens_one_referral_however_often_it_arrives(legal, events):
    loan_id = events.new_loan_id()
    first = await legal.send("CaseEscalated", events.escalation(loan_id))
    replay = await legal.send("CaseEscalated", None, event=first)
    second_escalation = await legal.send("CaseEscalated", events.escalation(loan_id, reason="escalated again"))
    await legal.handled(first, replay, second_escalation)

    referral = await legal.referral_of(loan_id)
    assert referral["legal_case_id"] == legal_case_id_for(f"C-{loan_id}")
    assert referral["status"] == "referred"
    opened = [e for e in await legal.legal_case_events(loan_id) if e.type == "LegalCaseOpened"]
    assert len(opened) == 1
    assert opened[0].data | {"occurred_at": None} == {
        "legal_case_id": referral["legal_case_id"],
        "case_id": f"C-{loan_id}",
        "loan_id": loan_id,
        "partner_id": referral["partner_id"],
        "status": "referred",
        "occurred_at": None,
    }


async def test_an_escalation_to_an_earlier_stage_opens_no_referral(legal, events):
    loan_id = events.new_loan_id()
    await legal.handled(await legal.send("CaseEscalated", events.escalation(loan_id, to_stage="phone")))
    assert await legal.referrals(loan_id) == []


async def test_the_evidence_file_lists_exactly_the_reminders_sent_for_that_loan(legal, events):
    loan_id, other_loan = events.new_loan_id(), events.new_loan_id()
    reminders = [events.reminder_sent(loan_id, status) for status in ("delivered", "failed", "suppressed")]
    sent = [await legal.send("LoanOverdue", events.overdue(loan_id))]
    sent += [await legal.send("ReminderSent", reminder) for reminder in reminders]
    sent.append(await legal.send("ReminderSent", events.reminder_sent(other_loan)))
    sent.append(await legal.send("CaseEscalated", events.escalation(loan_id, reason="dpd 92, no promise kept")))
    await legal.handled(*sent)

    referral = await legal.referral_of(loan_id)
    response = await legal.client.get(f"/v1/legal-cases/{referral['legal_case_id']}/file")
    assert response.status_code == 200, response.text
    bundle = response.json()
    parts = bundle["parts"]
    assert [a["reminder_id"] for a in parts["contact_attempts"]] == [r.reminder_id for r in reminders]
    assert [a["status"] for a in parts["contact_attempts"]] == ["delivered", "failed", "suppressed"]
    assert parts["loan_snapshot"]["latest_overdue"]["overdue_amount"] == "3150.40"
    assert [h["type"] for h in parts["overdue_history"]] == ["LoanOverdue"]
    assert parts["escalation"]["reason"] == "dpd 92, no promise kept"
    assert bundle["digests"]["parts"] == {name: digest(part) for name, part in parts.items()}


async def test_an_illegal_move_is_refused_with_409_and_the_reason(legal, events):
    loan_id = events.new_loan_id()
    await legal.send("CaseEscalated", events.escalation(loan_id))
    legal_case_id = (await legal.referral_of(loan_id))["legal_case_id"]

    refused = await legal.client.post(f"/v1/legal-cases/{legal_case_id}/status", json={"status": "judgment"})
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert (
        refused.json()["detail"]
        == "a referral that is referred can move only to accepted, withdrawn, settled, not to judgment"
    )

    accepted = await legal.client.post(f"/v1/legal-cases/{legal_case_id}/status", json={"status": "accepted"})
    assert accepted.status_code == 200, accepted.text
    detail = (await legal.client.get(f"/v1/legal-cases/{legal_case_id}")).json()
    assert [(a["action"], a["from_status"], a["to_status"]) for a in detail["audit_trail"]] == [
        ("referred", None, "referred"),
        ("status", "referred", "accepted"),
    ]
    assert detail["audit_trail"][1]["actor"].startswith("token:")
    updates = [e.data["status"] for e in await legal.legal_case_events(loan_id) if e.type == "LegalCaseUpdated"]
    assert updates == ["accepted"]


async def test_moving_a_referral_needs_the_legal_write_scope(legal, events, make_token):
    loan_id = events.new_loan_id()
    await legal.send("CaseEscalated", events.escalation(loan_id))
    legal_case_id = (await legal.referral_of(loan_id))["legal_case_id"]
    reader = {"Authorization": f"Bearer {make_token('cases:read')}"}

    response = await legal.client.post(
        f"/v1/legal-cases/{legal_case_id}/status", json={"status": "accepted"}, headers=reader
    )

    assert response.status_code == 403
    assert (await legal.client.get("/v1/legal-cases", headers={"Authorization": ""})).status_code == 401


async def test_a_cleared_overdue_withdraws_the_referral_and_tells_the_partner(legal, events):
    loan_id = events.new_loan_id()
    await legal.send("CaseEscalated", events.escalation(loan_id))
    referral = await legal.referral_of(loan_id)

    cleared = events.cleared(loan_id)
    await legal.handled(await legal.send("OverdueCleared", cleared))

    detail = (await legal.client.get(f"/v1/legal-cases/{referral['legal_case_id']}")).json()
    assert detail["status"] == "withdrawn"
    assert detail["audit_trail"][-1]["actor"] == "system:overdue-cleared"
    told = [(n["partner_id"], n["kind"]) for n in detail["partner_notices"]]
    assert told == [(referral["partner_id"], "referral"), (referral["partner_id"], "withdrawn")]
    updates = [e.data for e in await legal.legal_case_events(loan_id) if e.type == "LegalCaseUpdated"]
    assert [(u["status"], u["partner_id"]) for u in updates] == [("withdrawn", referral["partner_id"])]


async def test_a_partner_integration_collects_its_notices_and_marks_them_delivered(legal, events):
    loan_id = events.new_loan_id()
    await legal.send("CaseEscalated", events.escalation(loan_id))
    referral = await legal.referral_of(loan_id)
    await legal.handled(await legal.send("OverdueCleared", events.cleared(loan_id)))
    params = {"partner_id": referral["partner_id"]}

    pending = (await legal.client.get("/v1/partner-notices", params=params)).json()["items"]
    mine = [n for n in pending if n["legal_case_id"] == referral["legal_case_id"]]
    assert [n["kind"] for n in mine] == ["referral", "withdrawn"]
    for notice in mine:
        delivered = await legal.client.post(f"/v1/partner-notices/{notice['notice_id']}/delivered")
        assert delivered.status_code == 200 and delivered.json()["sent_at"] is not None

    still_pending = (await legal.client.get("/v1/partner-notices", params=params)).json()["items"]
    assert referral["legal_case_id"] not in {n["legal_case_id"] for n in still_pending}


async def test_a_referral_not_accepted_by_the_deadline_goes_to_another_partner(legal, events, clock):
    loan_id = events.new_loan_id()
    await legal.send("CaseEscalated", events.escalation(loan_id))
    first_partner = (await legal.referral_of(loan_id))["partner_id"]

    clock.advance(hours=71)
    await legal.published()
    assert (await legal.referral_of(loan_id))["partner_id"] == first_partner

    clock.advance(hours=2)

    async def reassigned():
        referral = (await legal.referrals(loan_id))[0]
        return referral if referral["partner_id"] != first_partner else None

    referral = await legal.eventually(reassigned, what="the referral to be re-assigned")
    assert referral["status"] == "referred"
    assert referral["accept_by"] == (clock.now() + timedelta(hours=72)).isoformat().replace("+00:00", "Z")
    detail = (await legal.client.get(f"/v1/legal-cases/{referral['legal_case_id']}")).json()
    assert [a["action"] for a in detail["audit_trail"]] == ["referred", "reassigned"]
    assert (first_partner, "reassigned") in [(n["partner_id"], n["kind"]) for n in detail["partner_notices"]]
    updates = [e.data for e in await legal.legal_case_events(loan_id) if e.type == "LegalCaseUpdated"]
    assert [(u["status"], u["partner_id"]) for u in updates] == [("referred", referral["partner_id"])]
    late = {"status": "accepted", "partner_id": first_partner}
    refused = await legal.client.post(f"/v1/legal-cases/{referral['legal_case_id']}/status", json=late)
    assert refused.status_code == 409
    assert refused.json()["detail"] == f"the referral is with partner {referral['partner_id']}, not {first_partner}"
