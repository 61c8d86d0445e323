"""Cases opened, escalated and resolved from the bus, against real PostgreSQL and a real broker."""

from datetime import timedelta

from scheduler_testkit import START, cleared, eventually, new_loan_id, overdue


async def test_an_overdue_loan_opens_a_case_and_requests_an_sms(scheduler):
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 1)))
    await scheduler.settled()

    case = await scheduler.case_of(loan_id)
    reminders = await scheduler.bus.reminders(loan_id)

    assert (case["status"], case["stage"]) == ("open", "reminder")
    assert sorted(r["channel"] for r in reminders) == ["push", "sms"]
    sms = next(r for r in reminders if r["channel"] == "sms")
    assert (sms["case_id"], sms["stage"], sms["template"], sms["locale"]) == (case["case_id"], "reminder", "overdue_reminder", "zh-CN")
    assert case["next_action_at"] is not None
    assert {"opened", "planned", "reminder_requested"} <= {h["kind"] for h in case["history"]}
    assert all(h["policy_version"] == 1 for h in case["history"])


async def test_a_loan_100_days_past_due_is_escalated_to_legal_at_once(scheduler):
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 100, "8000.00")))
    await scheduler.settled()

    [escalation] = await eventually(lambda: scheduler.bus.escalations(loan_id), what="CaseEscalated")
    case = await scheduler.case_of(loan_id)

    assert (escalation["from_stage"], escalation["to_stage"]) == ("reminder", "legal")
    assert (escalation["days_past_due"], escalation["overdue_amount"], escalation["currency"]) == (100, "8000.00", "CNY")
    assert escalation["reason"] == "days past due 100 >= 90"
    assert case["stage"] == "legal"
    assert [r["template"] for r in await scheduler.bus.reminders(loan_id)] == ["legal_notice"]


async def test_a_paid_loan_is_resolved_and_gets_no_more_reminders(scheduler):
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 1)))
    await scheduler.settled()
    before = len(await scheduler.bus.reminders(loan_id))

    await scheduler.handled(await scheduler.bus.send("OverdueCleared", cleared(loan_id)))
    scheduler.clock.advance(days=60)
    await scheduler.settled()

    case = await scheduler.case_of(loan_id)
    assert (case["status"], case["resolution"], case["next_action_at"]) == ("resolved", "paid", None)
    assert len(await scheduler.bus.reminders(loan_id)) == before
    assert await scheduler.scalar("SELECT count(*) FROM scheduler.timers WHERE loan_id = $1 AND status = 'pending'", loan_id) == 0


async def test_the_same_overdue_twice_makes_no_second_case_or_reminder(scheduler):
    loan_id = new_loan_id()
    notice = overdue(loan_id, 1)
    first = await scheduler.bus.send("LoanOverdue", notice)
    redelivered = await scheduler.bus.send("LoanOverdue", notice, event=first)
    resent = await scheduler.bus.send("LoanOverdue", notice)
    await scheduler.handled(first, redelivered, resent)
    await scheduler.settled()

    assert len(await scheduler.cases(loan_id)) == 1
    assert sorted(r["channel"] for r in await scheduler.bus.reminders(loan_id)) == ["push", "sms"]


async def test_a_case_reaching_day_16_moves_to_the_phone_stage_on_that_day(scheduler):
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 14)))
    await scheduler.settled()

    scheduler.clock.advance(days=2)
    await scheduler.settled()

    [escalation] = await eventually(lambda: scheduler.bus.escalations(loan_id), what="CaseEscalated to phone")
    case = await scheduler.case_of(loan_id)
    assert (escalation["from_stage"], escalation["to_stage"], escalation["days_past_due"]) == ("reminder", "phone", 16)
    assert case["stage"] == "phone"
    assert "voice" in [r["channel"] for r in await scheduler.bus.reminders(loan_id)]
    assert await scheduler.scalar("SELECT count(*) FROM scheduler.agent_tasks WHERE loan_id = $1", loan_id) == 1


async def test_a_clearance_that_overtook_its_overdue_notice_opens_no_case(scheduler):
    loan_id = new_loan_id()
    await scheduler.handled(await scheduler.bus.send("OverdueCleared", cleared(loan_id)))
    await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 3)))
    await scheduler.settled()

    assert await scheduler.cases(loan_id) == []
    assert await scheduler.bus.reminders(loan_id) == []


async def test_many_loans_at_once_each_get_a_case_and_a_loans_later_notice_applies_after_its_first(scheduler):
    loans = [new_loan_id() for _ in range(20)]
    escalating = loans[0]
    sent = [await scheduler.bus.send("LoanOverdue", overdue(loan_id, 1)) for loan_id in loans]
    later = overdue(escalating, 16, as_of=START + timedelta(days=15))
    sent.append(await scheduler.bus.send("LoanOverdue", later))
    await scheduler.handled(*sent)
    scheduler.clock.advance(days=15)
    await scheduler.settled()

    assert [len(await scheduler.cases(loan_id)) for loan_id in loans] == [1] * len(loans)
    case = await scheduler.case_of(escalating)
    [escalation] = await eventually(lambda: scheduler.bus.escalations(escalating), what="CaseEscalated to phone")
    assert (case["stage"], case["days_past_due"]) == ("phone", 16)
    assert (escalation["from_stage"], escalation["to_stage"]) == ("reminder", "phone")
    kinds = [h["kind"] for h in case["history"]]
    assert kinds.index("opened") < kinds.index("updated") < kinds.index("escalated")
    assert {"push", "sms"} <= {r["channel"] for r in await scheduler.bus.reminders(loans[1])}
