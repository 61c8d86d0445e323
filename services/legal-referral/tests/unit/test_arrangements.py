from datetime import UTC, datetime, timedelta

from dunning_legal.domain.arrangements import CaseFact, arrangements

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def fact(type_: str, hours: int, **data) -> CaseFact:
    at = T0 + timedelta(hours=hours)
    body = {"case_id": "C-1", "loan_id": "L-1", "occurred_at": at.isoformat(), **data}
    return CaseFact(type=type_, event=f"urn:test#{type_}-{hours}", occurred_at=at, data=body)


def promise_made(hours: int, promise_id: str, amount: str = "500.00") -> CaseFact:
    return fact("PromiseMade", hours, promise_id=promise_id, amount=amount, currency="CNY", promised_date="2026-11-10")


def test_a_promise_kept_and_one_broken_read_with_their_terms_and_outcomes():
    facts = [
        promise_made(0, "P-1"),
        fact("PromiseKept", 10, promise_id="P-1"),
        promise_made(20, "P-2", "800.00"),
        fact("PromiseBroken", 30, promise_id="P-2", broken_promises=1),
    ]

    promises = arrangements(facts)["promises"]

    assert [(p["promise_id"], p["amount"], p["status"], p["broken_promises"]) for p in promises] == [
        ("P-1", "500.00", "kept", None),
        ("P-2", "800.00", "broken", 1),
    ]
    assert promises[0]["status_at"] == (T0 + timedelta(hours=10)).isoformat()


def test_a_promise_without_an_outcome_is_open():
    (promise,) = arrangements([promise_made(0, "P-1")])["promises"]
    assert (promise["status"], promise["status_at"], promise["promised_date"]) == ("open", None, "2026-11-10")


def test_lists_are_in_the_order_things_were_agreed_whatever_order_the_facts_come_in():
    facts = [promise_made(5, "P-late"), promise_made(1, "P-early"), fact("PromiseKept", 9, promise_id="P-early")]
    assert [p["promise_id"] for p in arrangements(facts)["promises"]] == ["P-early", "P-late"]


def test_an_outcome_heard_twice_leaves_the_same_promise():
    once = [promise_made(0, "P-1"), fact("PromiseKept", 10, promise_id="P-1")]
    twice = once + [CaseFact("PromiseKept", "urn:test#again", once[1].occurred_at, once[1].data)]
    strip = lambda result: [{k: v for k, v in p.items() if k != "events"} for p in result["promises"]]  # noqa: E731
    assert strip(arrangements(twice)) == strip(arrangements(once))


def test_a_hold_tells_its_reason_expiry_and_why_it_was_released():
    expires = (T0 + timedelta(days=30)).isoformat()
    facts = [
        fact("HoldPlaced", 0, hold_id="H-1", reason="dispute", expires_at=expires, placed_by="agent-7"),
        fact("HoldReleased", 48, hold_id="H-1", reason="dispute", released_because="resolved"),
        fact("HoldPlaced", 50, hold_id="H-2", reason="hardship", expires_at=expires),
    ]

    first, second = arrangements(facts)["holds"]

    assert (first["reason"], first["expires_at"], first["placed_by"]) == ("dispute", expires, "agent-7")
    assert (first["status"], first["released_because"]) == ("released", "resolved")
    assert (second["status"], second["released_at"]) == ("placed", None)


def test_a_plan_lists_its_instalments_and_total_and_how_it_ended():
    installments = [
        {"seq": 1, "due_date": "2026-12-01", "amount": "300.00"},
        {"seq": 2, "due_date": "2027-01-01", "amount": "300.50"},
    ]
    facts = [
        fact("PlanAgreed", 0, plan_id="PL-1", currency="CNY", installments=installments),
        fact("PlanBroken", 800, plan_id="PL-1", missed_seq=2),
        fact("PlanAgreed", 900, plan_id="PL-2", currency="CNY", installments=installments[:1]),
        fact("PlanCompleted", 1000, plan_id="PL-2"),
    ]

    broken, completed = arrangements(facts)["plans"]

    assert (broken["total"], broken["installments"], broken["status"], broken["missed_seq"]) == (
        "600.50",
        installments,
        "broken",
        2,
    )
    assert (completed["total"], completed["status"], completed["missed_seq"]) == ("300.00", "completed", None)


def test_no_case_events_mean_empty_lists():
    assert arrangements([]) == {"promises": [], "holds": [], "plans": []}


def test_an_outcome_whose_start_never_came_shows_with_the_terms_empty():
    (promise,) = arrangements([fact("PromiseBroken", 3, promise_id="P-1", broken_promises=2)])["promises"]
    assert (promise["made_at"], promise["amount"], promise["status"], promise["broken_promises"]) == (
        None,
        None,
        "broken",
        2,
    )
