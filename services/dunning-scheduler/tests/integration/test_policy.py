"""The dunning policy over HTTP: read, replace (validated), and dry-run."""

import copy

from scheduler_testkit import new_loan_id, overdue


async def active_policy(scheduler) -> dict:
    response = await scheduler.client.get("/v1/policy")
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_default_policy_is_active_from_the_start(scheduler):
    policy = await active_policy(scheduler)

    assert policy["version"] == 1
    assert [s["name"] for s in policy["stages"]] == ["reminder", "phone", "field_visit", "legal"]
    assert [p["days_before"] for p in policy["pre_due"]] == [3, 1]


async def test_a_valid_policy_becomes_the_next_version_and_decides_new_cases(scheduler):
    changed = await active_policy(scheduler)
    changed["caps"]["per_day"] = 1

    response = await scheduler.client.put("/v1/policy", json=changed)
    assert response.status_code == 200, response.text
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 1)))
    await scheduler.settled()

    assert (await active_policy(scheduler))["version"] == 2
    case = await scheduler.case_of(loan_id)
    assert case["policy_version"] == 2
    assert [r["channel"] for r in await scheduler.bus.reminders(loan_id)] == ["sms"]
    planned = next(h for h in case["history"] if h["kind"] == "planned")
    assert planned["policy_version"] == 2
    assert planned["details"]["skipped"][0]["skipped"].startswith("cap: already 1 reminders")


async def test_a_policy_with_stages_out_of_order_is_refused_with_the_reason(scheduler):
    policy = await active_policy(scheduler)
    policy["stages"] = [policy["stages"][0], policy["stages"][3], policy["stages"][1]]

    response = await scheduler.client.put("/v1/policy", json=policy)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "stages: must follow the order ['reminder', 'phone', 'field_visit', 'legal']" in response.json()["detail"]
    assert (await active_policy(scheduler))["version"] == 1


async def test_a_policy_with_a_reminder_without_channel_is_refused_with_the_reason(scheduler):
    policy = await active_policy(scheduler)
    del policy["stages"][0]["actions"][0]["channel"]

    response = await scheduler.client.put("/v1/policy", json=policy)

    assert response.status_code == 422
    assert "action 'overdue_reminder': a reminder needs a channel" in response.json()["detail"]


async def test_a_policy_written_over_a_newer_version_is_refused(scheduler):
    stale = await active_policy(scheduler)
    assert (await scheduler.client.put("/v1/policy", json=copy.deepcopy(stale))).status_code == 200

    response = await scheduler.client.put("/v1/policy", json=stale)

    assert response.status_code == 409
    assert "version 1 is not the active policy (version 2)" in response.json()["detail"]


async def test_changing_the_policy_needs_the_policy_write_scope(scheduler, make_token):
    policy = await active_policy(scheduler)
    reader = {"Authorization": f"Bearer {make_token('cases:read')}"}

    assert (await scheduler.client.put("/v1/policy", json=policy, headers=reader)).status_code == 403
    assert (await scheduler.client.put("/v1/policy", json=policy, headers={"Authorization": ""})).status_code == 401


async def test_a_dry_run_shows_the_timeline_and_touches_no_case(scheduler):
    body = {"loan": {"days_past_due": -4, "overdue_amount": "6000.00"}, "days": 100}

    response = await scheduler.client.post("/v1/policy/simulate", json=body)

    assert response.status_code == 200, response.text
    timeline = response.json()["timeline"]
    escalations = [(e["day"], e["stage"]) for e in timeline if e["kind"] == "escalation"]
    assert escalations == [(16, "phone"), (31, "field_visit"), (90, "legal")]
    assert [(e["day"], e["channel"]) for e in timeline[:4]] == [(-3, "sms"), (-1, "sms"), (1, "sms"), (1, "push")]
    assert await scheduler.scalar("SELECT count(*) FROM scheduler.cases") == 0


async def test_a_dry_run_of_an_invalid_policy_is_refused(scheduler):
    body = {"loan": {"days_past_due": 1, "overdue_amount": "100"}, "policy": {"name": "x", "stages": []}}

    response = await scheduler.client.post("/v1/policy/simulate", json=body)

    assert response.status_code == 422
    assert "policy.stages" in response.json()["detail"]


async def test_a_case_in_a_segment_follows_the_segments_ladder_and_says_so(scheduler):
    policy = await active_policy(scheduler)
    fast_legal = [policy["stages"][0], {"name": "legal", "entry": [{"min_days_past_due": 10}], "actions": []}]
    policy["segments"] = [{"name": "acme-fast", "match": {"lenders": ["acme"]}, "stages": fast_legal}]
    assert (await scheduler.client.put("/v1/policy", json=policy)).status_code == 200
    loan_id = new_loan_id()

    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 12)))
    await scheduler.settled()

    case = await scheduler.case_of(loan_id)
    assert (case["stage"], case["segment"], case["policy_version"]) == ("legal", "acme-fast", 2)
    [escalation] = await scheduler.bus.escalations(loan_id)
    assert escalation["to_stage"] == "legal"
