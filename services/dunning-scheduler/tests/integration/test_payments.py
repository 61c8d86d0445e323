"""Promises and repayment plans are judged by the payments received, not by the fall of the overdue
amount, which penalty accrual pushes back up."""

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from dunning_contracts import Topics
from dunning_contracts.events import RepaymentReceived
from scheduler_testkit import START, new_loan_id, overdue


def payment(loan_id: str, amount: str, paid_at: datetime, payment_id: str | None = None) -> RepaymentReceived:
    return RepaymentReceived(
        loan_id=loan_id, payment_id=payment_id or f"P-{uuid.uuid4().hex[:10]}", amount=Decimal(amount),
        currency="CNY", paid_at=paid_at,
    )


def with_penalty(loan_id: str, days: int, amount: str, penalty: str, as_of: datetime):
    """What the ledger reports a day later: the overdue amount after a payment, plus the day's penalty."""
    return overdue(loan_id, days, amount, as_of=as_of).model_copy(update={"penalty_accrued": Decimal(penalty)})


async def open_case(scheduler, days: int, amount: str = "1200.00") -> tuple[str, str]:
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, days, amount)))
    await scheduler.settled()
    return loan_id, (await scheduler.case_of(loan_id))["case_id"]


async def promise(scheduler, case_id: str, amount: str, in_days: int) -> dict:
    body = {"amount": amount, "date": (scheduler.clock.now() + timedelta(days=in_days)).date().isoformat()}
    response = await scheduler.client.post(f"/v1/cases/{case_id}/promises", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def pay(scheduler, loan_id: str, amount: str, payment_id: str | None = None) -> None:
    event = await scheduler.bus.send("RepaymentReceived", payment(loan_id, amount, scheduler.clock.now(), payment_id))
    await scheduler.handled(event)


async def advance(scheduler, days: int) -> None:
    scheduler.clock.advance(days=days)
    await scheduler.settled()


async def case_event_types(scheduler, loan_id: str) -> list[str]:
    return [e.type for e in await scheduler.bus.events(Topics.CASE_EVENTS, loan_id)]


async def test_a_promise_paid_exactly_while_penalty_accrues_is_kept_and_nothing_escalates(scheduler):
    loan_id, case_id = await open_case(scheduler, days=20)
    await promise(scheduler, case_id, "300.00", in_days=1)
    await advance(scheduler, 4)  # a first promise broken: one more would reach legal

    await promise(scheduler, case_id, "300.00", in_days=3)
    scheduler.clock.advance(days=1)
    await pay(scheduler, loan_id, "300.00")
    kept_at_once = await scheduler.scalar("SELECT count(*) FROM scheduler.promises WHERE status = 'kept'")
    # 1200 - 300 paid + 15 of penalty: the overdue amount fell by only 285.
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", with_penalty(loan_id, 25, "915.00", "15.00", scheduler.clock.now())))
    await advance(scheduler, 5)

    case = await scheduler.case_of(loan_id)
    assert kept_at_once == 1
    assert (case["broken_promises"], case["kept_promises"], case["status"]) == (1, 1, "open")
    assert case["stage"] != "legal"
    assert "legal" not in [e["to_stage"] for e in await scheduler.bus.escalations(loan_id)]
    assert (await case_event_types(scheduler, loan_id)).count("PromiseKept") == 1
    assert [h["kind"] for h in case["history"]].count("promise_broken") == 1


async def test_a_promise_paid_in_two_parts_is_kept_and_a_redelivered_payment_counts_once(scheduler):
    loan_id, case_id = await open_case(scheduler, days=5)
    await promise(scheduler, case_id, "300.00", in_days=3)

    scheduler.clock.advance(days=1)
    await pay(scheduler, loan_id, "150.00", payment_id="P-once")
    await pay(scheduler, loan_id, "150.00", payment_id="P-once")  # the same payment reported again
    still_pending = await scheduler.scalar("SELECT status FROM scheduler.promises")
    await pay(scheduler, loan_id, "150.00")
    await advance(scheduler, 5)

    case = await scheduler.case_of(loan_id)
    assert still_pending == "pending"
    assert await scheduler.scalar("SELECT status FROM scheduler.promises") == "kept"
    assert (case["broken_promises"], case["kept_promises"]) == (0, 1)
    assert await scheduler.scalar("SELECT sum(amount) FROM scheduler.payments WHERE loan_id = $1", loan_id) == Decimal("300.00")


async def test_a_payment_before_the_promise_or_after_its_grace_does_not_keep_it(scheduler):
    loan_id, case_id = await open_case(scheduler, days=5)
    await pay(scheduler, loan_id, "300.00")  # paid before the promise was made
    scheduler.clock.advance(minutes=1)
    await promise(scheduler, case_id, "300.00", in_days=1)
    await advance(scheduler, 4)  # the promised date and its grace pass
    await pay(scheduler, loan_id, "300.00")
    await scheduler.settled()

    case = await scheduler.case_of(loan_id)
    assert (case["broken_promises"], case["kept_promises"]) == (1, 0)
    assert "PromiseKept" not in await case_event_types(scheduler, loan_id)


async def test_a_plan_paid_on_time_while_penalty_accrues_is_kept(scheduler):
    loan_id, case_id = await open_case(scheduler, days=3, amount="2000.00")
    today = START.date()
    body = {"currency": "CNY", "total": "1000.00", "installments": [
        {"due_date": (today + timedelta(days=5)).isoformat(), "amount": "500.00"},
        {"due_date": (today + timedelta(days=12)).isoformat(), "amount": "500.00"},
    ]}
    response = await scheduler.client.post(f"/v1/cases/{case_id}/plans", json=body)
    assert response.status_code == 201, response.text

    await advance(scheduler, 4)
    await pay(scheduler, loan_id, "500.00")
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", with_penalty(loan_id, 8, "1540.00", "40.00", scheduler.clock.now())))
    await advance(scheduler, 4)  # instalment 1 checked
    after_one = await scheduler.case_of(loan_id)
    await advance(scheduler, 4)
    await pay(scheduler, loan_id, "500.00")
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", with_penalty(loan_id, 16, "1080.00", "80.00", scheduler.clock.now())))
    await advance(scheduler, 4)  # instalment 2 checked

    done = await scheduler.case_of(loan_id)
    assert after_one["plans"][0]["kept_installments"] == 1
    assert (done["plans"][0]["status"], done["plans"][0]["kept_installments"]) == ("completed", 2)
    assert done["broken_promises"] == 0
    assert "PlanBroken" not in await case_event_types(scheduler, loan_id)


async def test_a_payment_of_a_loan_without_a_case_is_only_stored(scheduler):
    loan_id = new_loan_id()

    await pay(scheduler, loan_id, "99.50")

    assert await scheduler.scalar("SELECT amount FROM scheduler.payments WHERE loan_id = $1", loan_id) == Decimal("99.50")
    assert await scheduler.scalar("SELECT count(*) FROM scheduler.cases WHERE loan_id = $1", loan_id) == 0
