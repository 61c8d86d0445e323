import pytest

from dunning_legal.domain.contacts import KINDS, REMINDER, agent_kind, is_agent_contact

REMINDER_CHANNELS = ("sms", "email", "push", "letter", "voice")


def test_an_agents_phone_call_and_field_visit_are_kinds_of_their_own():
    assert (agent_kind("phone"), agent_kind("field")) == ("agent_call", "field_visit")
    assert [kind for kind in KINDS if is_agent_contact(kind)] == ["agent_call", "field_visit"]


def test_a_reminder_is_not_an_agents_contact():
    assert not is_agent_contact(REMINDER)


@pytest.mark.parametrize("channel", REMINDER_CHANNELS)
def test_no_reminder_channel_is_taken_for_an_agents_channel(channel):
    with pytest.raises(KeyError):
        agent_kind(channel)
