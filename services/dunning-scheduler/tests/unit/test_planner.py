"""What a stage plans and when: entry, offsets, pre-due reminders, caps and the contact window."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from dunning_scheduler.domain.calendar import Calendar
from dunning_scheduler.domain.decisions import decide
from dunning_scheduler.domain.default_policy import DEFAULT_POLICY
from dunning_scheduler.domain.ladder import Situation
from dunning_scheduler.domain.planner import PRE_DUE_NEXT, plan_pre_due, plan_stage
from dunning_scheduler.domain.policy import Action, Caps, Policy, StagePolicy

SHANGHAI = "Asia/Shanghai"
# 12:00 in Shanghai: inside the contact window.
NOON = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)


def calendar_at(days_past_due: int, now: datetime = NOON) -> Calendar:
    return Calendar.from_observation(now, days_past_due, SHANGHAI, DEFAULT_POLICY.contact_window)


def fired_now(plan, now: datetime = NOON) -> list[tuple[str, str | None, str | None]]:
    return [(a.kind, a.channel, a.template) for a in plan.actions if a.due_at == now]


def test_day_one_sends_an_sms_and_a_push_at_once():
    plan = plan_stage(DEFAULT_POLICY, "reminder", calendar_at(1), NOON, [])
    assert fired_now(plan) == [("reminder", "sms", "overdue_reminder"), ("reminder", "push", "overdue_reminder")]


def test_later_reminders_wait_for_their_day_in_the_contact_window():
    plan = plan_stage(DEFAULT_POLICY, "reminder", calendar_at(1), NOON, [])
    later = [(a.day, a.channel) for a in plan.actions if a.due_at > NOON]
    assert later == [(3, "sms"), (5, "email"), (7, "sms"), (10, "email"), (11, "sms"), (15, "sms")]
    assert {a.due_at.astimezone(calendar_at(1).timezone).hour for a in plan.actions if a.due_at > NOON} == {8}


def test_a_case_first_seen_at_day_120_enters_legal_and_acts_at_once():
    decision = decide(DEFAULT_POLICY, None, Situation(120, Decimal("6000")), calendar_at(120), NOON, [])
    assert (decision.stage, decision.escalated_from) == ("legal", "reminder")
    assert fired_now(decision.plan) == [("reminder", "letter", "legal_notice")]


def test_a_case_entering_between_offsets_fires_the_latest_due_action_not_the_next_one():
    plan = plan_stage(DEFAULT_POLICY, "reminder", calendar_at(4), NOON, [])
    assert fired_now(plan) == [("reminder", "sms", "overdue_reminder")]
    assert min(a.day for a in plan.actions if a.due_at > NOON) == 5


def test_a_stage_entered_early_fires_its_first_action_at_entry():
    decision = decide(DEFAULT_POLICY, "phone", Situation(20, Decimal("100"), 2), calendar_at(20), NOON, [])
    assert decision.stage == "legal"
    assert fired_now(decision.plan) == [("reminder", "letter", "legal_notice")]
    assert [a for a in decision.plan.actions if a.kind == "reminder" and a.due_at > NOON] == []


def test_the_plan_ends_with_a_review_on_the_day_a_later_stage_may_begin():
    decision = decide(DEFAULT_POLICY, None, Situation(1, Decimal("100")), calendar_at(1), NOON, [])
    review = decision.plan.actions[-1]
    assert (review.kind, review.day) == ("review", 16)


def test_an_action_at_night_is_requested_for_when_the_window_opens():
    night = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    plan = plan_stage(DEFAULT_POLICY, "reminder", calendar_at(1, night), night, [])
    first = plan.actions[0]
    assert first.due_at == night
    assert first.not_before == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)  # 08:00 the next morning
    assert first.expires_at == first.not_before + timedelta(hours=DEFAULT_POLICY.reminder_ttl_hours)


def test_reminders_beyond_the_daily_cap_are_left_out_with_the_reason():
    sent_today = [NOON - timedelta(hours=1)]
    plan = plan_stage(DEFAULT_POLICY, "reminder", calendar_at(1), NOON, sent_today)
    assert fired_now(plan) == [("reminder", "sms", "overdue_reminder")]
    assert [s.action.channel for s in plan.skipped] == ["push"]
    assert plan.skipped[0].reason.startswith("cap: already 2 reminders on 2026-11-27")


def test_the_weekly_cap_counts_the_seven_days_before():
    policy = Policy(
        name="daily sms",
        caps=Caps(per_day=1, per_week=3),
        stages=[StagePolicy(name="reminder", actions=[Action(channel="sms", template="daily", day=1, repeat_every_days=1, max_count=10)])],
    )
    plan = plan_stage(policy, "reminder", calendar_at(1), NOON, [])
    kept = [a.day for a in plan.actions if a.kind == "reminder"]
    assert kept == [1, 2, 3, 8, 9, 10]


def test_agent_calls_are_not_reminders_and_do_not_count_against_the_caps():
    plan = plan_stage(DEFAULT_POLICY, "phone", calendar_at(16), NOON, [NOON - timedelta(hours=2)] * 2)
    assert [(a.kind, a.channel) for a in plan.actions if a.due_at == NOON] == [("agent_call", None)]


def test_pre_due_reminders_come_three_days_and_one_day_before_the_due_date():
    planned = plan_pre_due(DEFAULT_POLICY, [date(2026, 12, 10)], SHANGHAI, NOON)
    local = [(a.due_at.astimezone(calendar_at(1).timezone).date(), a.day, a.template) for a in planned]
    assert local == [(date(2026, 12, 7), -3, "pre_due_reminder"), (date(2026, 12, 9), -1, "pre_due_reminder")]


def test_pre_due_reminders_already_past_are_not_planned():
    planned = plan_pre_due(DEFAULT_POLICY, [date(2026, 11, 29)], SHANGHAI, NOON)
    assert [a.day for a in planned] == [-1]


def local_plan(planned) -> list[tuple[str, date, int | None]]:
    return [(a.kind, a.due_at.astimezone(calendar_at(1).timezone).date(), a.day) for a in planned]


MONTHLY = [date(2026, 12, 10) + timedelta(days=30 * n) for n in range(24)]


def test_only_the_next_installments_reminders_are_planned_with_a_checkpoint_for_the_one_after():
    planned = plan_pre_due(DEFAULT_POLICY, MONTHLY, SHANGHAI, NOON)
    assert local_plan(planned) == [
        ("reminder", date(2026, 12, 7), -3), ("reminder", date(2026, 12, 9), -1), (PRE_DUE_NEXT, date(2026, 12, 9), None),
    ]
    assert planned[-1].reason == "plans the reminders before the installment due 2027-01-09"


def test_the_checkpoint_plans_the_next_installment_and_none_of_the_reminders_already_planned():
    checkpoint = plan_pre_due(DEFAULT_POLICY, MONTHLY, SHANGHAI, NOON)[-1]
    planned = plan_pre_due(DEFAULT_POLICY, MONTHLY, SHANGHAI, checkpoint.due_at)
    assert local_plan(planned)[:2] == [("reminder", date(2027, 1, 6), -3), ("reminder", date(2027, 1, 8), -1)]
    assert planned[-1].kind == PRE_DUE_NEXT


def test_checkpoints_walk_every_installment_and_plan_each_reminder_once():
    now, reminders, checkpoints = NOON, [], 0
    while planned := plan_pre_due(DEFAULT_POLICY, MONTHLY, SHANGHAI, now):
        reminders += [a.due_at for a in planned if a.kind == "reminder"]
        checkpoint = [a for a in planned if a.kind == PRE_DUE_NEXT]
        if not checkpoint:
            break
        now, checkpoints = checkpoint[0].due_at, checkpoints + 1
    every_one = [a.due_at for a in plan_pre_due_all(MONTHLY)]
    assert (reminders, checkpoints) == (every_one, 23)


def plan_pre_due_all(due_dates: list[date]):
    """Every pre-due reminder of the loan, planned one installment at a time from NOON."""
    return [a for d in due_dates for a in plan_pre_due(DEFAULT_POLICY, [d], SHANGHAI, NOON)]


def test_installments_whose_reminders_overlap_are_planned_together():
    close = [date(2026, 12, 10), date(2026, 12, 11), date(2027, 1, 10)]
    planned = plan_pre_due(DEFAULT_POLICY, close, SHANGHAI, NOON)
    assert local_plan(planned) == [
        ("reminder", date(2026, 12, 7), -3), ("reminder", date(2026, 12, 8), -3), ("reminder", date(2026, 12, 9), -1),
        (PRE_DUE_NEXT, date(2026, 12, 9), None),
    ]
    after = plan_pre_due(DEFAULT_POLICY, close, SHANGHAI, planned[-1].due_at)
    assert local_plan(after)[0] == ("reminder", date(2026, 12, 10), -1)


def test_the_last_installment_plans_no_checkpoint():
    assert [a.kind for a in plan_pre_due(DEFAULT_POLICY, MONTHLY[-1:], SHANGHAI, NOON)] == ["reminder", "reminder"]
