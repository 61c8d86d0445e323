"""Agent work: a queue ranked by risk and amount, claimed by agents, outcomes fed back into the case."""

from scheduler_testkit import new_loan_id, overdue


async def phone_case(scheduler, amount: str) -> str:
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 16, amount)))
    return loan_id


async def claim(scheduler, agent: str = "agent-7", limit: int = 1) -> list[dict]:
    response = await scheduler.client.post("/v1/agent-tasks/claim", json={"agent_id": agent, "limit": limit})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_the_queue_puts_the_riskier_larger_case_first(scheduler):
    small = await phone_case(scheduler, "800.00")
    large = await phone_case(scheduler, "25000.00")
    await scheduler.settled()

    queue = (await scheduler.client.get("/v1/agent-tasks")).json()["items"]

    assert [t["loan_id"] for t in queue] == [large, small]
    assert queue[0]["risk_points"] > queue[1]["risk_points"]
    assert [t["loan_id"] for t in await claim(scheduler)] == [large]
    assert [t["loan_id"] for t in (await scheduler.client.get("/v1/agent-tasks")).json()["items"]] == [small]


async def test_a_promise_reported_by_an_agent_pauses_the_case(scheduler):
    loan_id = await phone_case(scheduler, "3000.00")
    await scheduler.settled()
    [task] = await claim(scheduler)

    body = {"agent_id": "agent-7", "outcome": "promise", "promise": {"amount": "3000.00", "date": "2026-11-30"}}
    response = await scheduler.client.post(f"/v1/agent-tasks/{task['task_id']}/complete", json=body)

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "promise"
    case = await scheduler.case_of(loan_id)
    assert (case["status"], case["contact_outcomes"]) == ("paused", {"promise": 1})
    assert any(f["name"] == "contact_promise" for f in case["risk"]["factors"])


async def test_a_wrong_number_raises_the_risk_score(scheduler):
    loan_id = await phone_case(scheduler, "3000.00")
    await scheduler.settled()
    before = (await scheduler.case_of(loan_id))["risk"]["points"]
    [task] = await claim(scheduler)

    body = {"agent_id": "agent-7", "outcome": "wrong_number"}
    assert (await scheduler.client.post(f"/v1/agent-tasks/{task['task_id']}/complete", json=body)).status_code == 200

    case = await scheduler.case_of(loan_id)
    assert case["risk"]["points"] == before + 15
    assert "contact_outcome" in [h["kind"] for h in case["history"]]


async def test_only_the_agent_holding_a_task_can_complete_it(scheduler):
    await phone_case(scheduler, "3000.00")
    await scheduler.settled()
    [task] = await claim(scheduler, agent="agent-7")

    body = {"agent_id": "agent-8", "outcome": "contacted"}
    response = await scheduler.client.post(f"/v1/agent-tasks/{task['task_id']}/complete", json=body)

    assert response.status_code == 409
    assert "claimed by another agent" in response.json()["detail"]
