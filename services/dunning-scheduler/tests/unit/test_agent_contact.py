"""When an agent may take a task: the borrower's local hours and today's call caps."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from dunning_scheduler.domain.agent_contact import AgentRules, Borrower, Call, CallTally, Hours, tally, take, waiting

SHANGHAI = ZoneInfo("Asia/Shanghai")
RULES = AgentRules(Hours(time(8), time(22)), Hours(time(9), time(18)), attempts_per_day=6, connected_calls_per_day=3)


def at_shanghai(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 27, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def test_a_call_may_be_made_at_21_59_local_but_not_at_22_00():
    borrower = Borrower(SHANGHAI)

    assert waiting(RULES, "agent_call", borrower, at_shanghai(21, 59)) is None
    wait = waiting(RULES, "agent_call", borrower, at_shanghai(22, 0))
    assert (wait.reason, wait.until) == ("contact_window", datetime(2026, 11, 28, 8, 0, tzinfo=SHANGHAI))


def test_before_the_window_opens_a_call_waits_for_the_same_morning():
    wait = waiting(RULES, "agent_call", Borrower(SHANGHAI), at_shanghai(7, 59))

    assert wait.until == datetime(2026, 11, 27, 8, 0, tzinfo=SHANGHAI)


def test_a_field_visit_keeps_to_daytime_hours():
    assert waiting(RULES, "field_visit", Borrower(SHANGHAI), at_shanghai(17, 59)) is None
    assert waiting(RULES, "field_visit", Borrower(SHANGHAI), at_shanghai(18, 0)).reason == "field_visit_hours"


def test_three_connected_calls_close_the_day_for_calls_but_not_for_visits():
    borrower = Borrower(SHANGHAI, CallTally(attempts=3, connected=3))

    wait = waiting(RULES, "agent_call", borrower, at_shanghai(10))
    assert (wait.reason, wait.until) == ("daily_call_cap", datetime(2026, 11, 28, 8, 0, tzinfo=SHANGHAI))
    assert waiting(RULES, "field_visit", borrower, at_shanghai(10)) is None


def test_six_attempts_close_the_day_even_when_nobody_answered():
    assert waiting(RULES, "agent_call", Borrower(SHANGHAI, CallTally(attempts=5)), at_shanghai(10)) is None
    assert waiting(RULES, "agent_call", Borrower(SHANGHAI, CallTally(attempts=6)), at_shanghai(10)).reason == "daily_attempt_cap"


def test_only_calls_of_the_borrowers_local_day_are_counted():
    calls = [
        Call(at_shanghai(0, 30), connected=True),
        Call(datetime(2026, 11, 26, 23, 30, tzinfo=SHANGHAI), connected=True),
        Call(at_shanghai(9)),
        Call(at_shanghai(9, 30)),
    ]

    counted = tally(calls, SHANGHAI, at_shanghai(12))

    assert (counted.attempts, counted.connected) == (3, 1)


def test_a_call_handed_out_counts_as_an_attempt_at_once():
    borrower = Borrower(SHANGHAI, CallTally(attempts=5))

    take(borrower, "agent_call", at_shanghai(10))

    assert waiting(RULES, "agent_call", borrower, at_shanghai(10)).reason == "daily_attempt_cap"


def test_a_window_narrowed_by_the_policy_keeps_the_later_start_and_earlier_end():
    assert Hours(time(8), time(22)).narrowed(Hours(time(9), time(21))) == Hours(time(9), time(21))
