"""The borrower's jurisdiction chooses the agents' rules: CN daily caps, US Regulation F (08:00-21:00,
7 calls in 7 days, none within 7 days after a conversation); voice reminders count like agents' calls."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dunning_scheduler.domain.agent_contact import AgentRules, Borrower, Call, Hours, rule_book, take, tally, waiting

CHICAGO = ZoneInfo("America/Chicago")
SHANGHAI = ZoneInfo("Asia/Shanghai")
CN = AgentRules(Hours(time(8), time(22)), Hours(time(9), time(18)), attempts_per_day=6, connected_calls_per_day=3)
BOOK = rule_book(CN, Hours(time(0), time(23, 59)))
US = BOOK.of("US")


def chicago(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=CHICAGO).astimezone(UTC)


def us_borrower(calls: list[Call], now: datetime) -> Borrower:
    return Borrower(CHICAGO, tally(calls, CHICAGO, now), "US")


def test_the_region_chooses_the_rules_and_an_unknown_region_gets_cn():
    assert BOOK.of("US-IL") is US and BOOK.of("us") is US
    assert BOOK.of("CN") == BOOK.of("SG") == BOOK.of(None)
    assert (US.attempts_per_day, US.connected_calls_per_day, US.calls_per_7_days, US.quiet_days_after_conversation) == (None, None, 7, 7)


def test_a_us_borrower_may_be_called_at_20_59_local_but_not_at_21_00():
    assert waiting(US, "agent_call", us_borrower([], chicago(27, 20, 59)), chicago(27, 20, 59)) is None
    wait = waiting(US, "agent_call", us_borrower([], chicago(27, 21)), chicago(27, 21))
    assert (wait.reason, wait.until) == ("contact_window", datetime(2026, 11, 28, 8, 0, tzinfo=CHICAGO))


def test_the_policy_window_narrows_both_jurisdictions():
    book = rule_book(CN, Hours(time(9), time(20)))
    assert book.of("US").call_hours == book.of("CN").call_hours == Hours(time(9), time(20))


def test_seven_unanswered_calls_in_seven_days_stop_the_eighth_until_the_oldest_leaves_the_week():
    now = chicago(27, 12)
    calls = [Call(chicago(day, 10)) for day in range(21, 28)]

    assert waiting(US, "agent_call", us_borrower(calls[1:], now), now) is None
    wait = waiting(US, "agent_call", us_borrower(calls, now), now)
    assert (wait.reason, wait.until) == ("calls_in_7_days", datetime(2026, 11, 28, 10, 0, tzinfo=CHICAGO))


def test_a_call_exactly_seven_days_old_has_left_the_week():
    now = chicago(28, 10)
    calls = [Call(chicago(21, 10))] + [Call(chicago(day, 9)) for day in range(22, 28)]

    assert waiting(US, "agent_call", us_borrower(calls, now), now) is None


def test_the_eighth_call_freed_at_night_waits_for_the_next_morning():
    now = chicago(27, 12)
    calls = [Call(chicago(21, 22, 30))] + [Call(chicago(day, 10)) for day in range(22, 28)]

    wait = waiting(US, "agent_call", us_borrower(calls, now), now)
    assert wait.until == datetime(2026, 11, 29, 8, 0, tzinfo=CHICAGO)


def test_no_call_within_seven_days_after_a_conversation():
    talked = chicago(20, 11)
    calls = [Call(talked, connected=True)]

    wait = waiting(US, "agent_call", us_borrower(calls, talked + timedelta(days=7, minutes=-1)), talked + timedelta(days=7, minutes=-1))
    assert (wait.reason, wait.until) == ("after_conversation", datetime(2026, 11, 27, 11, 0, tzinfo=CHICAGO))
    assert waiting(US, "agent_call", us_borrower(calls, chicago(27, 11)), chicago(27, 11)) is None


def test_us_rules_have_no_daily_cap_and_cn_rules_no_weekly_one():
    now = chicago(27, 12)
    six_today = [Call(chicago(27, 8, m)) for m in range(6)]
    assert waiting(US, "agent_call", us_borrower(six_today, now), now) is None

    shanghai_now = datetime(2026, 11, 27, 12, tzinfo=SHANGHAI)
    week = [Call(datetime(2026, 11, day, 10, tzinfo=SHANGHAI)) for day in range(20, 27)]
    assert waiting(BOOK.of("CN"), "agent_call", Borrower(SHANGHAI, tally(week, SHANGHAI, shanghai_now)), shanghai_now) is None


def test_a_call_handed_out_counts_in_the_week_at_once():
    now = chicago(27, 12)
    borrower = us_borrower([Call(chicago(day, 10)) for day in range(22, 28)], now)

    take(borrower, "agent_call", now)

    assert waiting(US, "agent_call", borrower, now).reason == "calls_in_7_days"


def test_two_agent_conversations_and_an_answered_voice_reminder_close_a_cn_day():
    now = datetime(2026, 11, 27, 15, tzinfo=SHANGHAI)
    agent_calls = [Call(datetime(2026, 11, 27, 9, tzinfo=SHANGHAI), True), Call(datetime(2026, 11, 27, 10, tzinfo=SHANGHAI), True)]
    voice_reminder = Call(datetime(2026, 11, 27, 11, tzinfo=SHANGHAI), True)

    assert waiting(BOOK.of("CN"), "agent_call", Borrower(SHANGHAI, tally(agent_calls, SHANGHAI, now)), now) is None
    borrower = Borrower(SHANGHAI, tally([*agent_calls, voice_reminder], SHANGHAI, now))
    assert waiting(BOOK.of("CN"), "agent_call", borrower, now).reason == "daily_call_cap"
