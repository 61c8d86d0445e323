"""A token bound to a lender sees and changes only that lender's cases, tasks and loans; to it, another
lender's do not exist (404)."""

from datetime import timedelta

import httpx
import pytest

from dunning_contracts.events import LoanClosed
from scheduler_testkit import START, new_loan_id, overdue


@pytest.fixture
def tokens(make_token) -> dict[str, str]:
    return {
        "acme_reader": make_token("cases:read", lender="acme"),
        "acme_writer": make_token("cases:read", "cases:write", lender="acme"),
        "beta_writer": make_token("cases:read", "cases:write", lender="beta"),
    }


def as_token(scheduler, token: str) -> httpx.AsyncClient:
    client = scheduler.client
    return httpx.AsyncClient(transport=client._transport, base_url=client.base_url, headers={"Authorization": f"Bearer {token}"})


async def case_of_lender(scheduler, lender: str, days: int = 3) -> tuple[str, str]:
    loan_id = new_loan_id()
    notice = overdue(loan_id, days).model_copy(update={"lender": lender})
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", notice))
    await scheduler.settled()
    return loan_id, (await scheduler.case_of(loan_id))["case_id"]


async def test_a_lender_token_reads_its_own_cases_and_not_another_lenders(tokens, scheduler):
    acme_loan, acme_case = await case_of_lender(scheduler, "acme")
    beta_loan, beta_case = await case_of_lender(scheduler, "beta")

    async with as_token(scheduler, tokens["acme_reader"]) as acme:
        own_list = await acme.get("/v1/cases", params={"loan_id": acme_loan})
        other_list = await acme.get("/v1/cases", params={"loan_id": beta_loan})
        own = await acme.get(f"/v1/cases/{acme_case}")
        other = await acme.get(f"/v1/cases/{beta_case}")

    assert [c["case_id"] for c in own_list.json()["items"]] == [acme_case]
    assert other_list.json() == {"items": []}
    assert own.status_code == 200
    assert other.status_code == 404
    assert other.headers["content-type"].startswith("application/problem+json")


async def test_a_lender_token_cannot_change_another_lenders_case(tokens, scheduler):
    _, beta_case = await case_of_lender(scheduler, "beta")
    date = (START + timedelta(days=3)).date().isoformat()
    expires = (START + timedelta(days=3)).isoformat()
    hold = await scheduler.client.post(f"/v1/cases/{beta_case}/holds", json={"reason": "dispute", "expires_at": expires})
    plan = {"currency": "CNY", "total": "100.00", "installments": [{"due_date": date, "amount": "100.00"}]}

    async with as_token(scheduler, tokens["acme_writer"]) as acme:
        answers = [
            await acme.post(f"/v1/cases/{beta_case}/promises", json={"amount": "100.00", "date": date}),
            await acme.post(f"/v1/cases/{beta_case}/holds", json={"reason": "dispute", "expires_at": expires}),
            await acme.post(f"/v1/cases/{beta_case}/plans", json=plan),
            await acme.post(f"/v1/cases/{beta_case}/holds/{hold.json()['hold_id']}/release"),
        ]

    assert [a.status_code for a in answers] == [404] * 4
    assert await scheduler.scalar("SELECT count(*) FROM scheduler.promises") == 0
    assert await scheduler.scalar("SELECT count(*) FROM scheduler.plans") == 0
    assert await scheduler.scalar("SELECT count(*) FROM scheduler.holds WHERE released_at IS NULL") == 1


async def test_a_lender_token_sees_and_claims_only_its_own_agent_tasks(tokens, scheduler):
    await case_of_lender(scheduler, "acme", days=16)
    beta_loan, _ = await case_of_lender(scheduler, "beta", days=16)
    [beta_task] = [t for t in (await scheduler.client.get("/v1/agent-tasks")).json()["items"] if t["loan_id"] == beta_loan]

    async with as_token(scheduler, tokens["beta_writer"]) as beta:
        queue = (await beta.get("/v1/agent-tasks")).json()["items"]
        claimed = (await beta.post("/v1/agent-tasks/claim", json={"agent_id": "b-1", "limit": 5})).json()["items"]
    async with as_token(scheduler, tokens["acme_writer"]) as acme:
        completed = await acme.post(f"/v1/agent-tasks/{beta_task['task_id']}/complete", json={"agent_id": "b-1", "outcome": "contacted"})

    assert [t["task_id"] for t in queue] == [beta_task["task_id"]]
    assert [t["task_id"] for t in claimed] == [beta_task["task_id"]]
    assert completed.status_code == 404
    assert await scheduler.scalar("SELECT count(*) FROM scheduler.agent_tasks WHERE status = 'queued'") == 1


async def test_a_loans_own_history_is_read_by_its_lender_only(tokens, scheduler):
    loan_id = new_loan_id()
    closed = LoanClosed(loan_id=loan_id, reason="repaid", closed_at=START)
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 3)))  # its lender: acme
    await scheduler.handled(await scheduler.bus.send("LoanClosed", closed))

    async with as_token(scheduler, tokens["acme_reader"]) as acme:
        own = await acme.get(f"/v1/loans/{loan_id}/history")
        unknown = await acme.get("/v1/loans/L-nobody/history")
    async with as_token(scheduler, tokens["beta_writer"]) as beta:
        other = await beta.get(f"/v1/loans/{loan_id}/history")

    assert own.status_code == 200, own.text
    assert [e["kind"] for e in own.json()["items"]] == ["pre_due_cancelled"]
    assert (unknown.status_code, other.status_code) == (404, 404)
