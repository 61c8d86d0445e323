"""Batch sends through the channel adapters, against two real dev providers: one request carries many
messages, and each message keeps the failover rules of a single send."""

import httpx
import pytest

from dunning_notification.adapters.breaker import CircuitBreaker
from dunning_notification.adapters.channels import DeliveryFailed, FailoverChannel, HttpProviderChannel, OutboundMessage, Receipt, Route
from dunning_platform.devstack.provider import DevProvider, Fault


@pytest.fixture
async def providers():
    async with DevProvider() as first, DevProvider() as second:
        yield first, second


@pytest.fixture
async def channel(providers):
    first, second = providers
    async with httpx.AsyncClient(base_url=first.url, timeout=1.0) as batching, httpx.AsyncClient(base_url=second.url, timeout=1.0) as single:
        yield FailoverChannel([
            Route("first", HttpProviderChannel(batching, "sms", "first", batch_max=100), breaker()),
            Route("second", HttpProviderChannel(single, "sms", "second", batch_max=1), breaker()),
        ])


def breaker() -> CircuitBreaker:
    return CircuitBreaker(failures=50, reset_after_s=60)


def messages(count: int) -> list[OutboundMessage]:
    return [OutboundMessage(f"r-{n}", "sms", f"1380000000{n}", f"reminder {n}") for n in range(count)]


def requests_seen(provider: DevProvider) -> int:
    return sum(record["calls"] for record in provider.state.records)


async def test_a_batch_travels_in_one_request_and_every_message_gets_its_own_receipt(channel, providers):
    first, second = providers
    outcomes = await channel.send_batch(messages(5))
    assert all(isinstance(o, Receipt) and o.provider == "first" for o in outcomes.values())
    assert sorted(r["reference"] for r in first.state.records) == [f"r-{n}" for n in range(5)]
    assert len({o.message_id for o in outcomes.values()}) == 5 and second.state.records == []


async def test_only_what_the_first_provider_surely_refused_goes_to_the_second(channel, providers):
    first, second = providers
    first.state.faults["sms"] = [Fault("unavailable", 1), Fault("accept_then_error", 1)]
    outcomes = await channel.send_batch(messages(3))
    assert outcomes["r-0"] == Receipt("second", second.state.records[0]["id"])
    assert isinstance(outcomes["r-1"], DeliveryFailed) and outcomes["r-1"].maybe_accepted
    assert outcomes["r-1"].provider == "first", "a message the first may hold is never offered to the second"
    assert outcomes["r-2"].provider == "first"
    assert [r["reference"] for r in second.state.records] == ["r-0"]


async def test_a_batch_that_timed_out_stays_with_its_provider_for_every_message(channel, providers):
    first, second = providers
    first.state.faults["sms"] = [Fault("timeout", 1, delay_s=3)]
    outcomes = await channel.send_batch(messages(3))
    assert all(isinstance(o, DeliveryFailed) and o.maybe_accepted and o.provider == "first" for o in outcomes.values())
    assert second.state.records == []


async def test_a_retried_batch_is_the_same_messages_to_the_provider(channel, providers):
    first, _ = providers
    await channel.send_batch(messages(3))
    again = await channel.send_batch(messages(3), pinned="first")
    assert len(first.state.records) == 3 and requests_seen(first) == 6
    assert {o.provider for o in again.values()} == {"first"}


async def test_pinned_messages_go_to_their_provider_alone(channel, providers):
    first, second = providers
    outcomes = await channel.send_batch(messages(2), pinned="second")
    assert {o.provider for o in outcomes.values()} == {"second"} and first.state.records == []


async def test_a_batch_request_that_fails_is_one_failure_of_the_provider_not_one_per_message(providers):
    first, second = providers
    first.state.faults["sms"] = [Fault("drop", 1)]
    circuit = CircuitBreaker(failures=2, reset_after_s=60)
    async with httpx.AsyncClient(base_url=first.url, timeout=1.0) as client:
        channel = FailoverChannel([Route("first", HttpProviderChannel(client, "sms", "first", batch_max=100), circuit)])
        dropped = await channel.send_batch(messages(3))
        assert all(isinstance(o, DeliveryFailed) and o.maybe_accepted for o in dropped.values())
        assert circuit.state == "closed", "three messages in one dropped request are one failure, below the two that open it"
        again = await channel.send_batch(messages(3))
    assert all(isinstance(o, Receipt) for o in again.values())


async def test_a_batch_whose_every_message_the_provider_refused_is_one_failure_and_any_message_taken_a_success(providers):
    first, _ = providers
    circuit = CircuitBreaker(failures=2, reset_after_s=60)
    async with httpx.AsyncClient(base_url=first.url, timeout=1.0) as client:
        channel = FailoverChannel([Route("first", HttpProviderChannel(client, "sms", "first", batch_max=100), circuit)])
        first.state.faults["sms"] = [Fault("unavailable", 3)]
        await channel.send_batch(messages(3))
        assert circuit.state == "closed"
        first.state.faults["sms"] = [Fault("unavailable", 2)]
        await channel.send_batch(messages(3))
        first.state.faults["sms"] = [Fault("unavailable", 3)]
        await channel.send_batch(messages(3))
        assert circuit.state == "closed", "the batch before, one message of which was taken, reset the count"
        first.state.faults["sms"] = [Fault("unavailable", 3)]
        await channel.send_batch(messages(3))
        assert circuit.state == "open"
