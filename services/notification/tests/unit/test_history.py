"""A borrower's past contacts as the guard counts them."""

from datetime import UTC, datetime, timedelta

from dunning_notification.domain.history import PastContact, summarise

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def contact(channel: str, hours_ago: float, outcome: str = "sent") -> PastContact:
    return PastContact(channel, NOW - timedelta(hours=hours_ago), outcome)


def test_only_attempts_of_the_same_channel_on_the_borrowers_local_day_count():
    past = [contact("sms", 1), contact("sms", 3, "failed"), contact("email", 1), contact("sms", 13)]
    # 13 hours ago was 23:00 yesterday in Shanghai, though the same UTC date.
    assert summarise(past, "sms", "Asia/Shanghai", NOW).attempts_today == 2


def test_refusals_by_the_guard_are_not_attempts():
    past = [contact("sms", 1, "suppressed"), contact("sms", 2, "undeliverable")]
    assert summarise(past, "sms", "Asia/Shanghai", NOW).attempts_today == 0


def test_answered_calls_are_connected_calls_and_conversations():
    past = [contact("voice", 1, "sent"), contact("voice", 1, "delivered"), contact("voice", 30, "delivered")]
    history = summarise(past, "voice", "Asia/Shanghai", NOW)
    assert history.connected_calls_today == 1
    assert history.calls_last_7_days == 1
    assert history.last_conversation_at == NOW - timedelta(hours=1)


def test_calls_older_than_seven_days_fall_out_of_the_window():
    past = [contact("voice", 24 * 7 + 1), contact("voice", 24 * 7 - 1)]
    assert summarise(past, "voice", "America/New_York", NOW).calls_last_7_days == 1
