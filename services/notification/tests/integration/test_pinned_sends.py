"""A reminder its provider may already hold is never reported failed and never sent a second time."""

import asyncio

from dunning_platform.devstack.provider import Fault
from notification_testkit.events import loan_booked, loan_overdue, produce, reminder_requested, unique


async def booked(service) -> tuple[str, str]:
    loan_id, borrower_id = unique("loan"), unique("borrower")
    now = service.clock.now()
    await produce(service.bootstrap, loan_booked(loan_id, borrower_id, now), loan_overdue(loan_id, borrower_id, now))
    await service.loan_known(loan_id)
    return loan_id, borrower_id


async def test_a_reminder_the_provider_took_outlives_an_open_circuit_and_is_recorded_sent_once(start_notification, provider):
    # The provider takes the message but the answer is lost; the failure opens the circuit at once.
    provider.state.faults["sms"] = [Fault("accept_then_error", 1)]
    settings = {"breaker_failures": 1, "breaker_reset_s": 3.0, "send_max_attempts": 2}
    async with start_notification(**settings) as service:
        loan_id, borrower_id = await booked(service)
        request = reminder_requested(loan_id, borrower_id, service.clock.now())
        reminder_id = request.data["reminder_id"]
        await produce(service.bootstrap, request)
        await service.reminder_when(loan_id, lambda r: r["attempts"] == 1, "the ambiguous first attempt")

        service.clock.advance(minutes=1)
        waiting = await service.reminder_when(loan_id, lambda r: r["attempts"] == 2, "a retry against the open circuit")
        assert waiting["status"] == "pending", "the last allowed attempt met an open circuit, yet the provider holds it"
        assert "circuit open for devprovider" in waiting["reason"]

        await asyncio.sleep(3.2)
        service.clock.advance(minutes=10)
        reminder = await service.reminder_when(loan_id, lambda r: r["status"] == "sent", "the provider's idempotent answer")

    [record] = provider.state.find(None, None, reminder_id)
    assert reminder["provider_message_id"] == record["id"] and record["calls"] == 2


async def test_a_retry_on_another_channel_is_the_same_message_at_the_provider(provider):
    first, _ = provider.state.accept("sms", "rem-1", "13812345678", {"body": "x"})
    again, fresh = provider.state.accept("voice", "rem-1", "13812345678", {"script": "x"})
    assert not fresh and again["id"] == first["id"]
    assert len(provider.state.find(None, None, "rem-1")) == 1
