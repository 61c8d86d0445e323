"""Champion/challenger: each case is assigned an arm by its loan id, follows that arm's ladder, and its
history names the arm and the policy version that decided."""

import itertools

from dunning_scheduler.domain.segments import bucket
from scheduler_testkit import new_loan_id, overdue

CHALLENGER_LADDER = [{"name": "reminder", "actions": [{"kind": "reminder", "channel": "email", "template": "challenger_notice", "day": 1}]}]


def arm_by_hash(loan_id: str) -> str:
    return "champion" if bucket(loan_id, "email-first") < 50 else "challenger"


def loans_of_both_arms(each: int) -> dict[str, str]:
    """Loan ids, `each` per arm, with the arm their hash picks."""
    chosen: dict[str, str] = {}
    for loan_id in (new_loan_id() for _ in itertools.count()):
        arm = arm_by_hash(loan_id)
        if list(chosen.values()).count(arm) < each:
            chosen[loan_id] = arm
        if len(chosen) == 2 * each:
            return chosen


async def test_each_case_follows_its_arms_ladder_and_its_history_says_so(scheduler):
    policy = (await scheduler.client.get("/v1/policy")).json()
    policy["experiment"] = {
        "name": "email-first",
        "arms": [{"name": "champion", "percent": 50}, {"name": "challenger", "percent": 50, "stages": CHALLENGER_LADDER}],
    }
    put = await scheduler.client.put("/v1/policy", json=policy)
    assert put.status_code == 200, put.text
    version = put.json()["version"]
    loans = loans_of_both_arms(3)

    for loan_id in loans:
        await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 1)))
    await scheduler.settled()

    for loan_id, arm in loans.items():
        case = await scheduler.case_of(loan_id)
        assert (case["arm"], case["policy_version"]) == (arm, version)
        templates = sorted((r["channel"], r["template"]) for r in await scheduler.bus.reminders(loan_id))
        expected = [("email", "challenger_notice")] if arm == "challenger" else [("push", "overdue_reminder"), ("sms", "overdue_reminder")]
        assert templates == expected, (loan_id, arm)
        [planned] = [h for h in case["history"] if h["kind"] == "planned"]
        assert (planned["details"]["arm"], planned["policy_version"]) == (arm, version)
        assert {h["policy_version"] for h in case["history"] if h["kind"] == "reminder_requested"} == {version}


async def test_a_loan_keeps_its_arm_in_a_new_overdue_notice_and_in_a_dry_run(scheduler):
    policy = (await scheduler.client.get("/v1/policy")).json()
    policy["experiment"] = {
        "name": "email-first",
        "arms": [{"name": "champion", "percent": 50}, {"name": "challenger", "percent": 50, "stages": CHALLENGER_LADDER}],
    }
    assert (await scheduler.client.put("/v1/policy", json=policy)).status_code == 200
    loans = loans_of_both_arms(1)

    for loan_id in loans:
        await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 1)))
        await scheduler.handled(await scheduler.bus.send("LoanOverdue", overdue(loan_id, 2)))
    await scheduler.settled()

    for loan_id, arm in loans.items():
        assert (await scheduler.case_of(loan_id))["arm"] == arm
        dry_run = await scheduler.client.post("/v1/policy/simulate", json={"loan": {"loan_id": loan_id}, "days": 5})
        assert dry_run.json()["arm"] == arm
