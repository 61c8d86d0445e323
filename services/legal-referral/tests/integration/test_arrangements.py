"""Promises, holds and repayment plans in the evidence file, from case events on the real broker."""

from datetime import datetime, timedelta

from legal_testkit.pdf_text import pdf_text


async def referral_of(legal, events, loan_id: str) -> str:
    await legal.send("CaseEscalated", events.escalation(loan_id))
    return (await legal.referral_of(loan_id))["legal_case_id"]


async def file_of(legal, legal_case_id: str, **params) -> dict:
    response = await legal.client.get(f"/v1/legal-cases/{legal_case_id}/file", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_file_lists_the_promises_holds_and_plans_of_its_loan_only_in_time_order(
    legal, events, case_events, clock
):
    loan_id, other_loan = events.new_loan_id(), events.new_loan_id()
    days_ago = lambda days: clock.now() - timedelta(days=days)  # noqa: E731
    sent = [
        # Sent out of time order: the file orders by when things happened, not by when they arrived.
        await legal.send("PlanAgreed", case_events.plan_agreed(loan_id, "PL-1", days_ago(2), ("300.00", "250.50"))),
        await legal.send("HoldPlaced", case_events.hold_placed(loan_id, "H-1", days_ago(20))),
        await legal.send("HoldReleased", case_events.hold_released(loan_id, "H-1", days_ago(15))),
        await legal.send("PromiseMade", case_events.promise_made(loan_id, "P-1", days_ago(12))),
        await legal.send("PromiseKept", case_events.promise_kept(loan_id, "P-1", days_ago(8))),
        await legal.send("PromiseMade", case_events.promise_made(loan_id, "P-2", days_ago(6), "800.00")),
        await legal.send("PromiseBroken", case_events.promise_broken(loan_id, "P-2", days_ago(1))),
        await legal.send("PromiseMade", case_events.promise_made(other_loan, "P-other", days_ago(3))),
    ]
    await legal.handled(*sent)

    arrangements = (await file_of(legal, await referral_of(legal, events, loan_id)))["parts"]["arrangements"]

    promises = [(p["promise_id"], p["amount"], p["promised_date"], p["status"]) for p in arrangements["promises"]]
    assert promises == [
        ("P-1", "500.00", (days_ago(12) + timedelta(days=5)).date().isoformat(), "kept"),
        ("P-2", "800.00", (days_ago(6) + timedelta(days=5)).date().isoformat(), "broken"),
    ]
    (hold,) = arrangements["holds"]
    assert (hold["hold_id"], hold["reason"], hold["status"], hold["released_because"]) == (
        "H-1",
        "dispute",
        "released",
        "resolved",
    )
    assert datetime.fromisoformat(hold["expires_at"]) == days_ago(20) + timedelta(days=14)
    (plan,) = arrangements["plans"]
    assert (plan["plan_id"], plan["total"], plan["status"]) == ("PL-1", "550.50", "active")
    assert [(i["seq"], i["amount"]) for i in plan["installments"]] == [(1, "300.00"), (2, "250.50")]


async def test_case_events_after_the_referral_join_the_file_and_the_earlier_file_stays_as_it_was(
    legal, events, case_events, clock
):
    loan_id = events.new_loan_id()
    await legal.handled(await legal.send("PromiseMade", case_events.promise_made(loan_id, "P-1", clock.now())))
    legal_case_id = await referral_of(legal, events, loan_id)
    opened = await file_of(legal, legal_case_id)

    clock.advance(days=3)
    an_hour_later = clock.now() + timedelta(hours=1)
    later = [
        await legal.send("PromiseBroken", case_events.promise_broken(loan_id, "P-1", clock.now())),
        await legal.send("PlanAgreed", case_events.plan_agreed(loan_id, "PL-1", clock.now())),
        await legal.send("PlanCompleted", case_events.plan_completed(loan_id, "PL-1", an_hour_later)),
    ]
    await legal.handled(*later)

    now = (await file_of(legal, legal_case_id))["parts"]["arrangements"]
    as_opened = await file_of(legal, legal_case_id, as_of=opened["as_of"])
    assert [(p["promise_id"], p["status"]) for p in now["promises"]] == [("P-1", "broken")]
    assert [(p["plan_id"], p["status"]) for p in now["plans"]] == [("PL-1", "completed")]
    assert as_opened["file_digest"] == opened["file_digest"]
    assert [(p["promise_id"], p["status"]) for p in as_opened["parts"]["arrangements"]["promises"]] == [("P-1", "open")]


async def test_a_duplicate_case_event_changes_nothing(legal, events, case_events, clock):
    loan_id, start = events.new_loan_id(), clock.now()
    made = await legal.send("PromiseMade", case_events.promise_made(loan_id, "P-1", start - timedelta(days=2)))
    kept = case_events.promise_kept(loan_id, "P-1", start - timedelta(days=1))
    await legal.handled(made, await legal.send("PromiseKept", kept))
    legal_case_id = await referral_of(legal, events, loan_id)
    before = await file_of(legal, legal_case_id)

    await legal.send("PromiseMade", None, event=made)
    # Same loan, same partition: once this later event is handled, the duplicate before it was too.
    marker = await legal.send("HoldPlaced", case_events.hold_placed(loan_id, "H-1", start))
    await legal.handled(marker)

    after = await file_of(legal, legal_case_id)
    rows = await legal.fetch_one("SELECT count(*) AS n FROM legal.case_events WHERE loan_id = $1", loan_id)
    assert rows["n"] == 3
    assert after["parts"]["arrangements"]["promises"] == before["parts"]["arrangements"]["promises"]
    assert [p["status"] for p in after["parts"]["arrangements"]["promises"]] == ["kept"]


async def test_a_file_without_case_events_has_no_arrangements_part(legal, events):
    legal_case_id = await referral_of(legal, events, events.new_loan_id())

    bundle = await file_of(legal, legal_case_id)

    assert "arrangements" not in bundle["parts"] and "arrangements" not in bundle["digests"]["parts"]


async def test_the_pdf_has_the_section_of_promises_holds_and_plans(legal, events, case_events, clock):
    loan_id, start = events.new_loan_id(), clock.now()
    sent = [
        await legal.send("HoldPlaced", case_events.hold_placed(loan_id, "H-1", start - timedelta(days=9), "hardship")),
        await legal.send("PromiseMade", case_events.promise_made(loan_id, "P-1", start - timedelta(days=4))),
    ]
    await legal.handled(*sent)
    legal_case_id = await referral_of(legal, events, loan_id)
    digest = (await file_of(legal, legal_case_id))["digests"]["parts"]["arrangements"]

    response = await legal.client.get(f"/v1/legal-cases/{legal_case_id}/file.pdf", params={"locale": "en"})

    assert response.status_code == 200, response.text
    text = " ".join(pdf_text(response.content).split())
    section = text[text.index("Promises, holds and repayment plans") :]
    assert section.startswith(f"Promises, holds and repayment plans SHA-256 {digest}")
    assert section.index("hold H-1 (hardship)") < section.index("promise P-1: CNY 500.00")
    assert "not released" in section and "; open" in section
