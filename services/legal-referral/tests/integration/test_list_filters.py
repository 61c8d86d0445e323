"""The list API's lender and age filters, against real PostgreSQL and a real broker."""

from datetime import timedelta


async def open_referral(legal, events, *, lender: str = "acme-lending") -> str:
    loan_id = events.new_loan_id()
    await legal.handled(await legal.send("LoanOverdue", events.overdue(loan_id, lender=lender)))
    await legal.handled(await legal.send("CaseEscalated", events.escalation(loan_id)))
    await legal.referral_of(loan_id)
    return loan_id


async def listed(legal, headers: dict | None = None, **params) -> set[str]:
    response = await legal.client.get("/v1/legal-cases", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {item["loan_id"] for item in response.json()["items"]}


async def test_the_lender_filter_lists_only_that_lenders_referrals(legal, events):
    acme = [await open_referral(legal, events, lender="acme-lending") for _ in range(2)]
    other = await open_referral(legal, events, lender="other-bank")

    assert await listed(legal, lender="acme-lending") == set(acme)
    assert await listed(legal, lender="other-bank") == {other}
    assert await listed(legal, lender="nobody-lends") == set()
    assert await listed(legal, lender="other-bank", loan_id=acme[0]) == set()


async def test_a_lender_learnt_after_the_referral_opened_is_filtered_on(legal, events):
    loan_id = events.new_loan_id()
    await legal.handled(await legal.send("CaseEscalated", events.escalation(loan_id)))
    assert (await legal.referral_of(loan_id))["lender"] is None
    assert await listed(legal, lender="acme-lending") == set()

    await legal.handled(await legal.send("LoanOverdue", events.overdue(loan_id, lender="acme-lending")))

    assert await listed(legal, lender="acme-lending") == {loan_id}


async def test_a_token_bound_to_a_lender_asking_for_another_lender_sees_nothing(legal, events, make_token):
    mine = await open_referral(legal, events, lender="acme-lending")
    await open_referral(legal, events, lender="other-bank")
    acme = {"Authorization": f"Bearer {make_token('cases:read', lender='acme-lending')}"}

    assert await listed(legal, acme, lender="other-bank") == set()
    assert await listed(legal, acme, lender="acme-lending") == {mine}
    assert await listed(legal, acme) == {mine}


async def test_age_filters_count_whole_days_since_the_referral_opened(legal, events, clock):
    old = await open_referral(legal, events)
    clock.advance(days=3, hours=5)
    new = await open_referral(legal, events)
    # `old` is now 3 days and 5 hours old, so 3 days old; `new` was opened just now, 0 days old.

    assert await listed(legal, min_age_days=0) == {old, new}
    assert await listed(legal, min_age_days=3) == {old}
    assert await listed(legal, min_age_days=4) == set()
    assert await listed(legal, max_age_days=0) == {new}
    assert await listed(legal, max_age_days=2) == {new}
    assert await listed(legal, max_age_days=3) == {old, new}
    assert await listed(legal, min_age_days=3, max_age_days=3) == {old}
    assert await listed(legal, min_age_days=1, max_age_days=2) == set()


async def test_a_referral_is_a_day_old_from_the_very_moment_a_day_has_passed(legal, events, clock):
    loan_id = await open_referral(legal, events)

    clock.advance(hours=24)
    assert await listed(legal, min_age_days=1) == {loan_id}
    assert await listed(legal, max_age_days=0) == set()

    clock.advance(hours=24, microseconds=-1)
    assert await listed(legal, min_age_days=2) == set()
    assert await listed(legal, max_age_days=1) == {loan_id}


async def test_age_filters_narrow_the_opened_after_and_before_times_rather_than_replace_them(legal, events, clock):
    start = clock.now()
    first = await open_referral(legal, events)
    clock.advance(days=2)
    second = await open_referral(legal, events)
    clock.advance(days=2)
    # Now `first` is 4 days old and `second` 2 days old.

    before_second = (start + timedelta(days=1)).isoformat()
    assert await listed(legal, min_age_days=1, opened_before=before_second) == {first}
    assert await listed(legal, max_age_days=9, opened_after=before_second) == {second}
    assert await listed(legal, max_age_days=3, opened_before=before_second) == set()


async def test_a_minimum_age_above_the_maximum_is_refused_with_the_reason(legal):
    response = await legal.client.get("/v1/legal-cases", params={"min_age_days": 5, "max_age_days": 2})

    assert response.status_code == 422
    assert "min_age_days" in response.json()["detail"]
    for bad in ({"min_age_days": -1}, {"max_age_days": 36501}, {"max_age_days": "soon"}):
        assert (await legal.client.get("/v1/legal-cases", params=bad)).status_code == 422
