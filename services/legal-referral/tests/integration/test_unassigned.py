"""A referral escalated while no partner is available waits, unassigned, instead of being dead-lettered."""

from dunning_legal.referrals import legal_case_id_for

A_FIRM = {
    "name": "Lingnan Law Office",
    "kind": "law_firm",
    "regions": ["CN-GD"],
    "capacity": 10,
    "fee_terms": {"model": "contingency", "currency": "CNY", "rate": "0.15"},
}


async def escalate_with_no_partner(legal, events) -> str:
    await legal.deactivate_every_partner()
    loan_id = events.new_loan_id()
    await legal.handled(await legal.send("LoanBooked", events.booked(loan_id, region="CN-GD")))
    await legal.handled(await legal.send("CaseEscalated", events.escalation(loan_id)))
    return loan_id


async def listed(legal, **params) -> set[str]:
    response = await legal.client.get("/v1/legal-cases", params=params)
    assert response.status_code == 200, response.text
    return {item["loan_id"] for item in response.json()["items"]}


async def test_an_escalation_with_no_partner_opens_an_unassigned_referral_and_nothing_is_dead_lettered(legal, events):
    loan_id = await escalate_with_no_partner(legal, events)

    referral = await legal.referral_of(loan_id)
    assert referral["legal_case_id"] == legal_case_id_for(f"C-{loan_id}")
    assert (referral["status"], referral["partner_id"], referral["accept_by"]) == ("referred", None, None)
    assert await legal.dead_letters() == 0
    assert await listed(legal, unassigned="true") == {loan_id}
    assert await listed(legal, unassigned="false") == set()
    detail = (await legal.client.get(f"/v1/legal-cases/{referral['legal_case_id']}")).json()
    assert [(a["action"], a["partner_id"]) for a in detail["audit_trail"]] == [("awaiting-partner", None)]
    assert detail["partner_notices"] == []
    assert await legal.legal_case_events(loan_id) == []


async def test_a_partner_registered_takes_the_waiting_referral_and_it_is_opened_on_the_bus(legal, events):
    loan_id = await escalate_with_no_partner(legal, events)

    registered = await legal.client.put("/v1/partners/lf-lingnan-gd", json=A_FIRM)

    assert registered.status_code == 200, registered.text
    assert registered.json()["open_referrals"] == 1
    referral = await legal.referral_of(loan_id)
    assert (referral["status"], referral["partner_id"]) == ("referred", "lf-lingnan-gd")
    assert referral["accept_by"] is not None
    assert await listed(legal, unassigned="true") == set()
    assert await listed(legal, unassigned="false") == {loan_id}
    detail = (await legal.client.get(f"/v1/legal-cases/{referral['legal_case_id']}")).json()
    assert [(a["action"], a["partner_id"]) for a in detail["audit_trail"]] == [
        ("awaiting-partner", None),
        ("referred", "lf-lingnan-gd"),
    ]
    assert [(n["partner_id"], n["kind"]) for n in detail["partner_notices"]] == [("lf-lingnan-gd", "referral")]
    opened = [(e.type, e.data["partner_id"], e.data["status"]) for e in await legal.legal_case_events(loan_id)]
    assert opened == [("LegalCaseOpened", "lf-lingnan-gd", "referred")]
    assert await legal.dead_letters() == 0


async def test_the_sweep_assigns_a_waiting_referral_once_a_partner_is_active_again(legal, events):
    loan_id = await escalate_with_no_partner(legal, events)
    legal_case_id = (await legal.referral_of(loan_id))["legal_case_id"]

    # Another replica re-activated the partner; this one hears of it only through its sweep.
    await legal.fetch_one("UPDATE legal.partners SET active = true WHERE partner_id = 'lf-pearl-river-gd'")

    async def assigned():
        return (await legal.referral_of(loan_id))["partner_id"]

    assert await legal.eventually(assigned, what="the waiting referral to be assigned") == "lf-pearl-river-gd"
    opened = [e for e in await legal.legal_case_events(loan_id) if e.type == "LegalCaseOpened"]
    assert [e.data["legal_case_id"] for e in opened] == [legal_case_id]


async def test_waiting_referrals_go_to_partners_by_the_usual_rule_and_equals_take_turns(legal, events):
    await legal.deactivate_every_partner()
    loans = [events.new_loan_id() for _ in range(2)]
    await legal.handled(*[await legal.send("CaseEscalated", events.escalation(loan_id)) for loan_id in loans])

    # Both of region CN (no booking seen); the two national firms come back at once, equally idle.
    national = ["lf-huaxin-bj", "lf-pudong-sh"]
    await legal.fetch_one("UPDATE legal.partners SET active = true WHERE partner_id = ANY($1)", national)

    async def partners_of_both():
        partners = [(await legal.referral_of(loan_id))["partner_id"] for loan_id in loans]
        return set(partners) if None not in partners else None

    assert await legal.eventually(partners_of_both, what="both referrals assigned") == set(national)


async def test_a_waiting_referral_is_withdrawn_on_payment_without_telling_any_partner(legal, events):
    loan_id = await escalate_with_no_partner(legal, events)
    legal_case_id = (await legal.referral_of(loan_id))["legal_case_id"]

    refused = await legal.client.post(f"/v1/legal-cases/{legal_case_id}/status", json={"status": "accepted"})
    assert refused.status_code == 409
    assert refused.json()["detail"] == "no partner has the referral yet; it can only be withdrawn or settled"

    await legal.handled(await legal.send("OverdueCleared", events.cleared(loan_id)))

    detail = (await legal.client.get(f"/v1/legal-cases/{legal_case_id}")).json()
    assert (detail["status"], detail["partner_id"], detail["partner_notices"]) == ("withdrawn", None, [])
    await legal.put_partner("lf-pearl-river-gd", active=True)
    assert (await legal.referral_of(loan_id))["partner_id"] is None
    assert await legal.legal_case_events(loan_id) == []
