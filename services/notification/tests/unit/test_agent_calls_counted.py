"""Agents' calls count with the voice reminders against the same caps, across the platform: a reminder
the agents' calls bring to a cap is refused with the rule as reason."""

from datetime import UTC, datetime, timedelta

from dunning_notification.domain.guard import Allowed, ContactRequest, check
from dunning_notification.domain.history import PastContact, agent_contact, summarise

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, 22:00 the day before in Chicago
CHICAGO_NOON = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def agent_call(at: datetime, connected: bool = False) -> list[PastContact]:
    return agent_contact("phone", at, connected)


def voice_reminder(at: datetime, answered: bool = False) -> list[PastContact]:
    return [PastContact("voice", at, "sent")] + ([PastContact("voice", at, "delivered")] if answered else [])


def verdict(past: list[PastContact], now: datetime = NOW, timezone: str = "Asia/Shanghai", region: str = "CN"):
    history = summarise(past, "voice", timezone, now)
    return check(ContactRequest("voice", timezone, region, history=history), now)


def hours_ago(hours: float, now: datetime = NOW) -> datetime:
    return now - timedelta(hours=hours)


def test_an_agents_answered_call_is_an_attempt_and_a_conversation_on_the_voice_method():
    history = summarise(agent_call(hours_ago(1), connected=True), "voice", "Asia/Shanghai", NOW)
    assert (history.attempts_today, history.connected_calls_today, history.calls_last_7_days) == (1, 1, 1)
    assert history.last_conversation_at == hours_ago(1)


def test_a_field_visit_is_no_call():
    history = summarise(agent_contact("field", hours_ago(1), True), "voice", "Asia/Shanghai", NOW)
    assert (history.attempts_today, history.connected_calls_today, history.last_conversation_at) == (0, 0, None)


def test_two_agent_conversations_and_one_answered_voice_reminder_close_the_day_for_voice():
    two_agents = agent_call(hours_ago(3), True) + agent_call(hours_ago(2), True)

    assert verdict(two_agents + voice_reminder(hours_ago(4))) == Allowed()
    refused = verdict(two_agents + voice_reminder(hours_ago(1), answered=True))
    assert refused.rule == "cn.daily_call_cap"
    assert refused.retry_at == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)  # 08:00 tomorrow in Shanghai


def test_five_agent_attempts_and_one_voice_reminder_are_the_sixth_attempt_of_the_phone():
    five_agents = [c for h in range(1, 6) for c in agent_call(hours_ago(h))]

    assert verdict(five_agents) == Allowed()
    assert verdict(five_agents + voice_reminder(hours_ago(0.5))).rule == "cn.daily_attempt_cap"


def test_agent_calls_of_yesterday_borrower_time_do_not_count_today():
    yesterday = [c for h in range(13, 19) for c in agent_call(hours_ago(h), True)]  # 18:00-23:00 yesterday, Shanghai
    assert verdict(yesterday) == Allowed()


def test_us_seven_calls_in_seven_days_agents_and_reminders_together():
    six = [c for d in range(1, 4) for c in agent_call(hours_ago(24 * d, CHICAGO_NOON))]
    six += [c for d in range(4, 7) for c in voice_reminder(hours_ago(24 * d, CHICAGO_NOON))]

    assert verdict(six, CHICAGO_NOON, "America/Chicago", "US") == Allowed()
    seventh = agent_call(hours_ago(1, CHICAGO_NOON))
    assert verdict(six + seventh, CHICAGO_NOON, "America/Chicago", "US").rule == "us.calls_in_7_days"


def test_us_no_voice_reminder_within_seven_days_after_an_agents_conversation():
    talked = CHICAGO_NOON - timedelta(days=7) + timedelta(minutes=1)
    refused = verdict(agent_call(talked, connected=True), CHICAGO_NOON, "America/Chicago", "US")

    assert (refused.rule, refused.retry_at) == ("us.after_conversation", talked + timedelta(days=7))
    exactly_seven_days = agent_call(CHICAGO_NOON - timedelta(days=7), connected=True)
    assert verdict(exactly_seven_days, CHICAGO_NOON, "America/Chicago", "US") == Allowed()
