from datetime import UTC, datetime, timedelta

from dunning_legal.domain.age import opened_by, opened_since

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def is_at_least(opened_at, days):
    return opened_at <= opened_by(NOW, days)


def is_at_most(opened_at, days):
    return opened_at > opened_since(NOW, days)


def test_a_referral_opened_3_days_and_5_hours_ago_is_3_days_old():
    opened_at = NOW - timedelta(days=3, hours=5)
    assert is_at_least(opened_at, 3) and is_at_most(opened_at, 3)
    assert not is_at_least(opened_at, 4) and not is_at_most(opened_at, 2)


def test_a_referral_opened_just_now_is_at_least_zero_and_at_most_zero_days_old():
    assert is_at_least(NOW, 0) and is_at_most(NOW, 0)
    assert not is_at_least(NOW, 1)


def test_the_minimum_age_counts_a_referral_from_the_moment_it_turns_that_old():
    assert is_at_least(NOW - timedelta(days=3), 3)
    assert not is_at_least(NOW - timedelta(days=3) + timedelta(microseconds=1), 3)


def test_the_maximum_age_keeps_a_referral_until_it_turns_a_day_older():
    assert is_at_most(NOW - timedelta(days=3, hours=23, minutes=59), 3)
    assert not is_at_most(NOW - timedelta(days=4), 3)


def test_a_referral_is_3_days_old_from_the_moment_it_turns_3_until_it_turns_4():
    for opened_at in (NOW - timedelta(days=3), NOW - timedelta(days=3, hours=12), NOW - timedelta(days=4, seconds=-1)):
        assert is_at_least(opened_at, 3) and is_at_most(opened_at, 3)
