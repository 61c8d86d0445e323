"""Repayment plans pause the policy and keep their own schedule; what happens to promises, holds and plans
is told on dunning.case-events.v1, in order."""

from datetime import timedelta
from decimal import Decimal

from dunning_contracts import Topics
from scheduler_testkit import START, Scheduler, cleared, eventually, new_loan_id, overdue, running, settings_for

PLAN_TEMPLATE = "plan_installment_due"


async def open_case(scheduler, days: int = 3, amount: str = "1200.00") -> tuple[str, str]:
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, days, amount)))
    await scheduler.settled()
    return loan_id, (await scheduler.case_of(loan_id))["case_id"]


def plan_body(*installments: tuple[int, str], currency: str = "CNY", total: str | None = None) -> dict:
    """Instalments as (days from now, amount)."""
    today = START.date()
    rows = [{"due_date": (today + timedelta(days=d)).isoformat(), "amount": a} for d, a in installments]
    total = total or str(sum(Decimal(a) for _, a in installments))
    return {"currency": currency, "total": total, "installments": rows}


async def agree(scheduler, case_id: str, body: dict) -> dict:
    response = await scheduler.client.post(f"/v1/cases/{case_id}/plans", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def pay_down_to(scheduler, loan_id: str, days: int, amount: str) -> None:
    """What the ledger says after a payment: a LoanOverdue with the lower overdue amount."""
    now = scheduler.clock.now()
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, days, amount, as_of=now)))


async def advance(scheduler, days: int) -> None:
    scheduler.clock.advance(days=days)
    await scheduler.settled()


async def test_a_plan_kept_to_the_end_sends_only_its_own_reminders_and_completes(scheduler):
    loan_id, case_id = await open_case(scheduler, amount="2000.00")
    sent_before = len(await scheduler.bus.reminders(loan_id))

    plan = await agree(scheduler, case_id, plan_body((5, "500.00"), (12, "500.00")))
    during = await scheduler.case_of(loan_id)
    await advance(scheduler, 3)  # the reminder two days before instalment 1
    await advance(scheduler, 2)
    await pay_down_to(scheduler, loan_id, 8, "1500.00")
    await advance(scheduler, 3)  # instalment 1 checked (due +5, 2 days of grace)
    kept_one = await scheduler.case_of(loan_id)
    await advance(scheduler, 2)  # the reminder before instalment 2
    await pay_down_to(scheduler, loan_id, 13, "1000.00")
    during_reminders = (await scheduler.bus.reminders(loan_id))[sent_before:]
    await advance(scheduler, 5)  # instalment 2 checked

    done = await scheduler.case_of(loan_id)
    assert (plan["status"], during["status"], during["pause_reason"]) == ("active", "paused", plan_pause_reason())
    assert [a["template"] for a in during["next_actions"] if a["kind"] == "reminder"] == [PLAN_TEMPLATE] * 2
    assert kept_one["plans"][0]["kept_installments"] == 1
    assert [(r["template"], r["channel"]) for r in during_reminders] == [(PLAN_TEMPLATE, "sms")] * 2
    assert (done["plans"][0]["status"], done["plans"][0]["kept_installments"]) == ("completed", 2)
    assert [h["kind"] for h in done["history"] if h["kind"].startswith("plan_")] == [
        "plan_agreed", "plan_installment_kept", "plan_completed",
    ]
    assert (done["status"], done["broken_promises"]) == ("open", 0)  # 1000.00 still overdue: the policy resumes


def plan_pause_reason() -> str:
    first, last = START.date() + timedelta(days=5), START.date() + timedelta(days=12)
    return f"repayment plan: 2 instalments, 1000.00 CNY from {first} to {last}"


async def miss_an_instalment(scheduler, case_id: str) -> None:
    """A plan whose first instalment falls due in 3 days, and a week in which nothing is paid."""
    due = (scheduler.clock.now() + timedelta(days=3)).date()
    body = {"currency": "CNY", "total": "600.00", "installments": [{"due_date": due.isoformat(), "amount": "600.00"}]}
    await agree(scheduler, case_id, body)
    await advance(scheduler, 1)  # its reminder, two days before
    await advance(scheduler, 5)  # the date and 2 days of grace have passed


async def test_a_missed_instalment_breaks_the_plan_resumes_the_policy_and_a_second_escalates(scheduler):
    loan_id, case_id = await open_case(scheduler)
    sent_before = len(await scheduler.bus.reminders(loan_id))

    await miss_an_instalment(scheduler, case_id)
    first = await scheduler.case_of(loan_id)
    after_first = [r["template"] for r in (await scheduler.bus.reminders(loan_id))[sent_before:]]
    await miss_an_instalment(scheduler, case_id)

    assert (first["status"], first["broken_promises"], first["plans"][0]["status"]) == ("open", 1, "broken")
    assert first["plans"][0]["missed_seq"] == 1
    assert [h["kind"] for h in first["history"] if h["kind"] in ("plan_broken", "resumed")] == ["plan_broken", "resumed"]
    assert after_first[0] == PLAN_TEMPLATE and PLAN_TEMPLATE not in after_first[1:] and len(after_first) > 1
    escalations = await eventually(lambda: scheduler.bus.escalations(loan_id), what="CaseEscalated")
    assert (escalations[-1]["to_stage"], escalations[-1]["reason"]) == ("legal", "broken promises 2 >= 2")
    assert (await scheduler.case_of(loan_id))["stage"] == "legal"


async def test_invalid_plans_are_refused_naming_the_field(scheduler):
    _, case_id = await open_case(scheduler)
    too_many = plan_body(*[(d, "10.00") for d in range(1, 26)])
    cases = {
        "installments.0.amount": plan_body((5, "-1.00"), total="1.00"),
        "currency": plan_body((5, "600.00"), currency="USD"),
        "total": plan_body((5, "600.00"), total="700.00"),
        "installments": too_many,
        "installments.1.due_date": plan_body((5, "600.00"), (4, "600.00")),
    }

    refused = {field: await scheduler.client.post(f"/v1/cases/{case_id}/plans", json=body) for field, body in cases.items()}

    for field, response in refused.items():
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in response.json()["errors"]], (field, response.text)
    assert (await scheduler.client.get(f"/v1/cases/{case_id}")).json()["plans"] == []


async def test_a_second_plan_and_a_plan_on_a_resolved_case_conflict(scheduler):
    loan_id, case_id = await open_case(scheduler)
    await agree(scheduler, case_id, plan_body((5, "600.00")))

    second = await scheduler.client.post(f"/v1/cases/{case_id}/plans", json=plan_body((6, "600.00")))
    await scheduler.handled(await scheduler.bus.send("OverdueCleared", cleared(loan_id, scheduler.clock.now())))
    resolved = await scheduler.client.post(f"/v1/cases/{case_id}/plans", json=plan_body((6, "600.00")))

    assert (second.status_code, resolved.status_code) == (409, 409)
    assert "active repayment plan" in second.json()["detail"]


async def test_case_events_tell_promises_holds_and_plans_in_order(scheduler):
    loan_id, case_id = await open_case(scheduler)
    promised = (START + timedelta(days=3)).date().isoformat()
    await scheduler.client.post(f"/v1/cases/{case_id}/promises", json={"amount": "300.00", "date": promised})
    hold = {"reason": "complaint", "expires_at": (START + timedelta(days=10)).isoformat()}
    await scheduler.client.post(f"/v1/cases/{case_id}/holds", json=hold)
    plan = await agree(scheduler, case_id, plan_body((5, "600.00"), (12, "600.00")))
    await scheduler.handled(await scheduler.bus.send("OverdueCleared", cleared(loan_id, scheduler.clock.now())))
    await scheduler.settled()

    events = await eventually(lambda: case_events(scheduler, loan_id, 6), what="six case events")
    assert [e.type for e in events] == ["PromiseMade", "HoldPlaced", "PlanAgreed", "PromiseKept", "HoldReleased", "PlanCompleted"]
    assert {e.data["case_id"] for e in events} == {case_id}
    made, placed, agreed, kept, released, completed = (e.data for e in events)
    assert (made["amount"], made["currency"], made["promised_date"], bool(made["taken_by"])) == ("300.00", "CNY", promised, True)
    assert (placed["reason"], released["reason"], released["released_because"]) == ("complaint", "complaint", "resolved")
    assert kept["promise_id"] == made["promise_id"]
    assert agreed["plan_id"] == completed["plan_id"] == plan["plan_id"]
    assert [(i["seq"], i["amount"]) for i in agreed["installments"]] == [(1, "600.00"), (2, "600.00")]
    assert all(e.source == "urn:dunning:dunning-scheduler" for e in events)


async def case_events(scheduler, loan_id: str, count: int) -> list:
    events = await scheduler.bus.events(Topics.CASE_EVENTS, loan_id)
    return events if len(events) >= count else []


async def test_a_restart_loses_no_plan_check(database_url, kafka_bootstrap, tokens_file, admin_token, bus, clock):
    settings = settings_for(database_url, kafka_bootstrap, tokens_file)
    async with running(settings, clock, admin_token) as client:
        before = Scheduler(client, database_url, bus, clock)
        loan_id, case_id = await open_case(before)
        await agree(before, case_id, plan_body((3, "600.00")))

    clock.advance(days=6)  # the check fell due while no scheduler ran
    async with running(settings, clock, admin_token) as client:
        after = Scheduler(client, database_url, bus, clock)
        await after.settled()
        case = await after.case_of(loan_id)

    assert (case["status"], case["plans"][0]["status"], case["broken_promises"]) == ("open", "broken", 1)
