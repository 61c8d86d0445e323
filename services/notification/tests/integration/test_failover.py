"""A second provider takes over only when the first surely did not take the message."""

import pytest

from dunning_platform.devstack.processes import free_port
from dunning_platform.devstack.provider import DevProvider, Fault
from notification_testkit.events import loan_booked, loan_overdue, produce, reminder_requested, unique


@pytest.fixture
async def fallback():
    async with DevProvider() as running:
        yield running


async def booked(service) -> tuple[str, str]:
    loan_id, borrower_id = unique("loan"), unique("borrower")
    now = service.clock.now()
    await produce(service.bootstrap, loan_booked(loan_id, borrower_id, now), loan_overdue(loan_id, borrower_id, now))
    await service.loan_known(loan_id)
    return loan_id, borrower_id


async def request(service, loan_id: str, borrower_id: str) -> str:
    event = reminder_requested(loan_id, borrower_id, service.clock.now())
    await produce(service.bootstrap, event)
    return event.data["reminder_id"]


def sent(reminder: dict) -> bool:
    return reminder["status"] == "sent"


async def test_an_unreachable_provider_fails_over_to_the_second_one(start_notification, fallback):
    nobody_listens = f"http://127.0.0.1:{free_port()}"
    async with start_notification(provider_url=nobody_listens, fallback_provider_url=fallback.url) as service:
        loan_id, borrower_id = await booked(service)
        reminder_id = await request(service, loan_id, borrower_id)

        reminder = await service.reminder_when(loan_id, sent, "the fallback to send it")
        assert reminder["provider"] == "fallback" and reminder["attempts"] == 1
        assert len(fallback.state.find("sms", None, reminder_id)) == 1


async def test_a_provider_that_may_have_taken_the_message_keeps_it_and_no_second_provider_sends_it(
    start_notification, provider, fallback
):
    provider.state.faults["sms"] = [Fault("accept_then_error", 1)]
    async with start_notification(fallback_provider_url=fallback.url) as service:
        loan_id, borrower_id = await booked(service)
        reminder_id = await request(service, loan_id, borrower_id)
        await service.reminder_when(loan_id, lambda r: r["attempts"] == 1, "the ambiguous first attempt")
        service.clock.advance(minutes=1)

        reminder = await service.reminder_when(loan_id, sent, "the retry at the same provider")
        assert reminder["provider"] == "devprovider"
        assert fallback.state.find("sms", None, reminder_id) == []
        [record] = provider.state.find("sms", None, reminder_id)
        assert record["calls"] == 2


async def test_an_open_circuit_sends_reminders_straight_to_the_second_provider(start_notification, provider, fallback):
    provider.state.faults["sms"] = [Fault("unavailable", 100)]
    async with start_notification(fallback_provider_url=fallback.url, breaker_failures=2, breaker_reset_s=600) as service:
        for _ in range(4):
            loan_id, borrower_id = await booked(service)
            await request(service, loan_id, borrower_id)
            reminder = await service.reminder_when(loan_id, sent, "the reminder to be sent")
            assert reminder["provider"] == "fallback"
        assert provider.state.faults["sms"][0].remaining == 98, "the first provider was asked twice, then left alone"
