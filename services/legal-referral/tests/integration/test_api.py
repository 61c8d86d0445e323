"""Partner choice and the list API, against real PostgreSQL and a real broker."""


async def test_a_borrower_region_learnt_from_the_booking_picks_a_partner_of_that_region(legal, events):
    loan_id = events.new_loan_id()
    await legal.handled(await legal.send("LoanBooked", events.booked(loan_id, region="CN-GD")))
    await legal.send("CaseEscalated", events.escalation(loan_id))

    referral = await legal.referral_of(loan_id)

    assert (referral["partner_id"], referral["region"]) == ("lf-pearl-river-gd", "CN-GD")


async def test_without_a_known_region_the_default_one_is_used_and_its_partners_take_turns(legal, events):
    first, second = events.new_loan_id(), events.new_loan_id()
    await legal.handled(await legal.send("CaseEscalated", events.escalation(first)))
    await legal.handled(await legal.send("CaseEscalated", events.escalation(second)))

    referrals = [await legal.referral_of(first), await legal.referral_of(second)]

    assert {r["region"] for r in referrals} == {"CN"}
    assert {r["partner_id"] for r in referrals} == {"lf-huaxin-bj", "lf-pudong-sh"}


async def test_referrals_are_listed_by_partner_and_status_one_page_at_a_time(legal, events):
    loans = [events.new_loan_id() for _ in range(3)]
    sent = [await legal.send("LoanBooked", events.booked(loan_id, region="CN-GD")) for loan_id in loans]
    await legal.handled(*sent)
    await legal.handled(*[await legal.send("CaseEscalated", events.escalation(loan_id)) for loan_id in loans])

    page = (await legal.client.get("/v1/legal-cases", params={"partner_id": "lf-pearl-river-gd", "limit": 2})).json()
    rest = (
        await legal.client.get("/v1/legal-cases", params={"partner_id": "lf-pearl-river-gd", "limit": 2, "offset": 2})
    ).json()

    assert [len(page["items"]), page["next_offset"], len(rest["items"]), rest["next_offset"]] == [2, 2, 1, None]
    assert {i["loan_id"] for i in page["items"] + rest["items"]} == set(loans)
    accepted = await legal.client.get("/v1/legal-cases", params={"status": "accepted"})
    assert accepted.json()["items"] == []
    assert (await legal.client.get("/v1/legal-cases", params={"status": "lost"})).status_code == 422
    naive = await legal.client.get("/v1/legal-cases", params={"opened_after": "2026-11-01T00:00:00"})
    assert naive.status_code == 422 and "opened_after" in naive.json()["detail"]
    recent = await legal.client.get("/v1/legal-cases", params={"max_age_days": 1, "partner_id": "lf-pearl-river-gd"})
    assert len(recent.json()["items"]) == 3
    old = await legal.client.get("/v1/legal-cases", params={"min_age_days": 1, "partner_id": "lf-pearl-river-gd"})
    assert old.json()["items"] == []


async def test_a_token_bound_to_a_lender_sees_only_that_lenders_referrals(legal, events, make_token):
    mine, theirs = events.new_loan_id(), events.new_loan_id()
    sent = [
        await legal.send("LoanOverdue", events.overdue(mine, lender="acme-lending")),
        await legal.send("LoanOverdue", events.overdue(theirs, lender="other-bank")),
    ]
    await legal.handled(*sent)
    await legal.handled(*[await legal.send("CaseEscalated", events.escalation(loan)) for loan in (mine, theirs)])
    their_case = (await legal.referral_of(theirs))["legal_case_id"]
    acme = {"Authorization": f"Bearer {make_token('cases:read', lender='acme-lending')}"}

    listed = (await legal.client.get("/v1/legal-cases", headers=acme)).json()["items"]

    assert {i["loan_id"] for i in listed} == {mine}
    assert (await legal.client.get(f"/v1/legal-cases/{their_case}", headers=acme)).status_code == 404


async def test_the_partner_registry_shows_regions_capacity_fees_and_load(legal, events):
    loan_id = events.new_loan_id()
    await legal.handled(await legal.send("LoanBooked", events.booked(loan_id, region="HK")))
    await legal.send("CaseEscalated", events.escalation(loan_id))
    await legal.referral_of(loan_id)

    partners = {p["partner_id"]: p for p in (await legal.client.get("/v1/partners")).json()["items"]}

    harbour = partners["lf-harbour-hk"]
    assert (harbour["regions"], harbour["capacity"], harbour["open_referrals"]) == (["HK", "MO"], 15, 1)
    assert harbour["fee_terms"]["hourly_rate"] == "2800.00"


async def test_a_partner_added_to_the_registry_takes_referrals_of_its_region(legal, events):
    firm = {
        "name": "Xiangjiang Law Office (Changsha)",
        "kind": "law_firm",
        "regions": ["CN-HN"],
        "capacity": 10,
        "fee_terms": {"model": "contingency", "currency": "CNY", "rate": "0.16", "filing_fee": "500.00"},
    }
    added = await legal.client.put("/v1/partners/lf-xiangjiang-hn", json=firm)
    assert added.status_code == 200, added.text
    assert added.json()["fee_terms"] == {
        "model": "contingency",
        "currency": "CNY",
        "rate": "0.16",
        "filing_fee": "500.00",
    }

    loan_id = events.new_loan_id()
    await legal.handled(await legal.send("LoanBooked", events.booked(loan_id, region="CN-HN")))
    await legal.send("CaseEscalated", events.escalation(loan_id))

    assert (await legal.referral_of(loan_id))["partner_id"] == "lf-xiangjiang-hn"


async def test_an_inactive_partner_gets_no_new_referrals(legal, events):
    partners = {p["partner_id"]: p for p in (await legal.client.get("/v1/partners")).json()["items"]}
    pearl_river = {k: v for k, v in partners["lf-pearl-river-gd"].items() if k not in ("partner_id", "open_referrals")}
    await legal.client.put("/v1/partners/lf-pearl-river-gd", json=pearl_river | {"active": False})

    loan_id = events.new_loan_id()
    await legal.handled(await legal.send("LoanBooked", events.booked(loan_id, region="CN-GD")))
    await legal.send("CaseEscalated", events.escalation(loan_id))

    assert (await legal.referral_of(loan_id))["partner_id"] != "lf-pearl-river-gd"


async def test_fee_terms_with_a_float_are_refused(legal):
    firm = {
        "name": "X",
        "kind": "law_firm",
        "regions": ["CN"],
        "capacity": 1,
        "fee_terms": {"model": "fixed", "currency": "CNY", "per_case": 1500.5},
    }

    response = await legal.client.put("/v1/partners/lf-x", json=firm)

    assert response.status_code == 422
    assert "fee_terms.per_case" in response.json()["detail"]


async def test_a_time_filter_whose_utc_time_falls_outside_the_calendar_is_refused(legal):
    for params in ({"opened_after": "0001-01-01T00:00:00+05:00"}, {"opened_before": "9999-12-31T23:59:59-05:00"}):
        response = await legal.client.get("/v1/legal-cases", params=params)
        assert response.status_code == 422, response.text

    response = await legal.client.get("/v1/legal-cases/x/file", params={"as_of": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 422 and "as_of" in response.json()["detail"]


async def test_the_openapi_document_names_every_error_the_routes_answer(legal):
    paths = (await legal.client.get("/openapi.json")).json()["paths"]
    move = paths["/v1/legal-cases/{legal_case_id}/status"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "413", "422", "429"} <= set(move)
    assert list(move["409"]["content"]) == ["application/problem+json"]
