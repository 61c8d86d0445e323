"""The compliance guard at the edges of each rule."""

from datetime import UTC, datetime, time, timedelta

import pytest

from dunning_notification.domain.guard import (
    Allowed, ContactRequest, History, Preferences, Suppressed, check, day_bounds, standing_refusal,
)
from dunning_notification.domain.reminders import Clearance, deferral

SHANGHAI = "Asia/Shanghai"
NEW_YORK = "America/New_York"


def at(local: str, zone: str) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def sms(zone: str = SHANGHAI, region: str = "CN", **kwargs) -> ContactRequest:
    return ContactRequest("sms", zone, region, **kwargs)


def voice(zone: str = SHANGHAI, region: str = "CN", **kwargs) -> ContactRequest:
    return ContactRequest("voice", zone, region, **kwargs)


class TestQuietHoursInChina:
    def test_a_text_at_21_59_in_shanghai_is_allowed(self):
        assert check(sms(), at("2026-11-27T21:59:59", SHANGHAI)) == Allowed()

    def test_a_text_at_22_00_in_shanghai_waits_for_08_00_the_next_morning(self):
        verdict = check(sms(), at("2026-11-27T22:00:00", SHANGHAI))
        assert verdict == Suppressed("cn.quiet_hours", at("2026-11-28T08:00:00", SHANGHAI))

    def test_a_text_at_07_59_waits_for_08_00_the_same_morning(self):
        verdict = check(sms(), at("2026-11-27T07:59:59", SHANGHAI))
        assert verdict == Suppressed("cn.quiet_hours", at("2026-11-27T08:00:00", SHANGHAI))

    def test_a_text_at_08_00_is_allowed(self):
        assert check(sms(), at("2026-11-27T08:00:00", SHANGHAI)) == Allowed()

    @pytest.mark.parametrize("day", ["2026-10-31", "2026-11-01", "2026-11-02"])
    def test_the_22_00_limit_follows_new_york_local_time_across_the_end_of_daylight_saving(self, day):
        # A CN borrower living in New York: 1 November 2026 is the day the clocks go back.
        assert check(sms(NEW_YORK), at(f"{day}T21:59:00", NEW_YORK)) == Allowed()
        assert isinstance(check(sms(NEW_YORK), at(f"{day}T22:00:00", NEW_YORK)), Suppressed)

    def test_the_utc_instant_of_22_00_in_new_york_moves_by_an_hour_with_daylight_saving(self):
        assert at("2026-10-31T22:00:00", NEW_YORK) == datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
        assert at("2026-11-01T22:00:00", NEW_YORK) == datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
        # 02:30 UTC on 2 November is 21:30 in New York after the change, 22:30 before it would have been.
        assert check(sms(NEW_YORK), datetime(2026, 11, 2, 2, 30, tzinfo=UTC)) == Allowed()


class TestQuietHoursUnderRegulationF:
    def test_a_us_borrower_may_be_texted_at_20_59_but_not_at_21_00(self):
        assert check(sms(NEW_YORK, "US"), at("2026-03-07T20:59:00", NEW_YORK)) == Allowed()
        assert check(sms(NEW_YORK, "US"), at("2026-03-07T21:00:00", NEW_YORK)).rule == "us.quiet_hours"

    def test_the_next_morning_after_the_spring_change_is_08_00_daylight_time(self):
        # 7 March 2026 is standard time (UTC-5); clocks go forward on the 8th, so 08:00 is 12:00 UTC, not 13:00.
        verdict = check(sms(NEW_YORK, "US"), at("2026-03-07T21:00:00", NEW_YORK))
        assert verdict.retry_at == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)

    def test_the_borrower_local_day_of_a_daylight_saving_change_has_23_hours(self):
        start, end = day_bounds(at("2026-03-08T12:00:00", NEW_YORK), NEW_YORK)
        assert end - start == timedelta(hours=23)


class TestDailyCaps:
    NOON = at("2026-11-27T12:00:00", SHANGHAI)

    def test_the_sixth_text_of_a_day_is_allowed(self):
        assert check(sms(history=History(attempts_today=5)), self.NOON) == Allowed()

    def test_the_seventh_text_of_a_day_waits_for_the_next_morning(self):
        verdict = check(sms(history=History(attempts_today=6)), self.NOON)
        assert verdict == Suppressed("cn.daily_attempt_cap", at("2026-11-28T08:00:00", SHANGHAI))

    def test_the_third_connected_call_of_a_day_is_allowed_and_the_fourth_is_not(self):
        assert check(voice(history=History(connected_calls_today=2)), self.NOON) == Allowed()
        assert check(voice(history=History(connected_calls_today=3)), self.NOON).rule == "cn.daily_call_cap"

    def test_connected_calls_do_not_limit_texts(self):
        assert check(sms(history=History(connected_calls_today=3)), self.NOON) == Allowed()


class TestRegulationFCallFrequency:
    NOON = at("2026-06-10T12:00:00", NEW_YORK)

    def test_the_seventh_call_in_seven_days_is_allowed_and_the_eighth_is_not(self):
        assert check(voice(NEW_YORK, "US", history=History(calls_last_7_days=6)), self.NOON) == Allowed()
        verdict = check(voice(NEW_YORK, "US", history=History(calls_last_7_days=7)), self.NOON)
        assert verdict.rule == "us.calls_in_7_days"

    def test_no_call_within_seven_days_after_a_conversation(self):
        talked = self.NOON - timedelta(days=7) + timedelta(minutes=1)
        verdict = check(voice(NEW_YORK, "US", history=History(last_conversation_at=talked)), self.NOON)
        assert verdict == Suppressed("us.after_conversation", talked + timedelta(days=7))
        later = check(voice(NEW_YORK, "US", history=History(last_conversation_at=talked)), talked + timedelta(days=7))
        assert later == Allowed()


class TestBorrowerChoices:
    NOON = at("2026-11-27T12:00:00", SHANGHAI)

    def test_an_opted_out_channel_is_never_used_but_others_are(self):
        choices = Preferences(opted_out=frozenset({"sms"}))
        assert check(sms(preferences=choices), self.NOON) == Suppressed("opt_out", None)
        assert check(ContactRequest("email", SHANGHAI, "CN", preferences=choices), self.NOON) == Allowed()

    def test_do_not_contact_stops_every_channel(self):
        verdict = check(sms(preferences=Preferences(do_not_contact=True)), self.NOON)
        assert verdict == Suppressed("do_not_contact", None)

    def test_a_hold_defers_until_it_ends(self):
        until = self.NOON + timedelta(days=3)
        assert check(sms(preferences=Preferences(hold_until=until)), self.NOON) == Suppressed("hold", until)
        assert check(sms(preferences=Preferences(hold_until=until)), until) == Allowed()

    def test_the_borrowers_own_hours_narrow_the_window(self):
        choices = Preferences(contact_hours=(time(9, 0), time(18, 0)))
        verdict = check(sms(preferences=choices), at("2026-11-27T18:30:00", SHANGHAI))
        assert verdict == Suppressed("borrower_contact_hours", at("2026-11-28T09:00:00", SHANGHAI))

    def test_a_cleared_loan_is_never_reminded(self):
        assert check(sms(loan_cleared=True), self.NOON) == Suppressed("loan_cleared", None)


class TestDeferral:
    def test_a_suppressed_reminder_is_retried_when_the_rule_allows_before_it_expires(self):
        retry = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
        assert deferral(Suppressed("cn.quiet_hours", retry), expires_at=retry + timedelta(seconds=1)) == retry

    def test_a_suppressed_reminder_that_would_be_allowed_only_after_it_expires_is_not_retried(self):
        retry = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
        assert deferral(Suppressed("cn.quiet_hours", retry), expires_at=retry) is None
        assert deferral(Suppressed("opt_out", None), expires_at=retry) is None


def test_a_hold_from_the_scheduler_defers_every_contact_until_it_ends():
    until = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    request = ContactRequest("sms", "Asia/Shanghai", "CN", case_held_until=until)
    assert check(request, until - timedelta(seconds=1)) == Suppressed("case_hold", until)
    assert check(request, until) == Allowed()


def test_a_cure_covers_the_cured_cases_and_what_was_planned_before_it_but_not_the_next_pre_due_notice():
    cured_at = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    later = cured_at + timedelta(days=1)
    cure = Clearance(cured_at, frozenset({"case-1"}))
    assert cure.covers("case-1", later, later), "a late reminder of the cured case"
    assert cure.covers("case-9", cured_at, cured_at), "requested by the time of the cure"
    assert not cure.covers("case-9", later, later), "a case opened after the cure"
    assert not cure.covers("pre-due:loan-1", cured_at - timedelta(days=1), cured_at), "about what falls due next"


def test_what_a_settling_re_send_must_honour_is_the_borrowers_and_the_loans_refusals_not_the_hour_or_the_caps():
    night = at("2026-11-27T23:00", SHANGHAI)
    capped = History(attempts_today=99)
    assert standing_refusal(sms(history=capped), night) is None
    assert standing_refusal(sms(preferences=Preferences(opted_out=frozenset({"sms"})), history=capped), night) == Suppressed("opt_out", None)
    assert standing_refusal(sms(loan_cleared=True), night) == Suppressed("loan_cleared", None)
