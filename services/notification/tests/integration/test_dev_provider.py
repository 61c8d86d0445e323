"""The dev channel provider: what the notification service and the system tests rely on."""

import asyncio
import signal
import subprocess
import sys
from email.message import EmailMessage

import aiosmtplib
import httpx
import pytest

from dunning_platform.devstack.processes import free_port
from dunning_platform.devstack.provider import DevProvider


@pytest.fixture
async def client(provider: DevProvider):
    async with httpx.AsyncClient(base_url=provider.url, timeout=5) as http:
        yield http


async def test_an_sms_sent_twice_with_the_same_reference_is_recorded_once(client):
    body = {"to": "13812345678", "body": "您好", "reference": "r-1"}
    first = await client.post("/sms/messages", json=body)
    second = await client.post("/sms/messages", json=body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"] and second.json()["duplicate"] is True
    [record] = (await client.get("/records", params={"channel": "sms", "to": "13812345678"})).json()["items"]
    assert record["calls"] == 2 and record["body"] == "您好"


async def test_the_idempotency_key_header_wins_over_a_missing_reference(client):
    for _ in range(2):
        await client.post("/voice/calls", json={"to": "13812345678", "script": "hi"}, headers={"Idempotency-Key": "k-1"})
    assert len((await client.get("/records", params={"reference": "k-1"})).json()["items"]) == 1


async def test_records_filter_by_channel_and_recipient(client):
    await client.post("/push/messages", json={"to": "device-1", "body": "x", "reference": "p-1"})
    await client.post("/letters", json={"to": "Li Wei, 1 Road", "body": "x", "reference": "l-1"})
    assert [r["channel"] for r in (await client.get("/records", params={"channel": "letter"})).json()["items"]] == ["letter"]
    assert (await client.get("/records", params={"to": "device-1"})).json()["items"][0]["reference"] == "p-1"


async def test_faults_play_for_the_next_calls_only(client):
    await client.post("/faults", json={"channel": "sms", "mode": "error", "count": 2})
    body = {"to": "13812345678", "body": "x", "reference": "f-1"}
    codes = [(await client.post("/sms/messages", json=body)).status_code for _ in range(3)]
    assert codes == [500, 500, 201]
    assert len((await client.get("/records", params={"reference": "f-1"})).json()["items"]) == 1


async def test_a_timeout_fault_keeps_the_caller_waiting(client):
    await client.post("/faults", json={"channel": "sms", "mode": "timeout", "delay_s": 5})
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/sms/messages", json={"to": "13812345678", "body": "x"}, timeout=0.3)


def sms(reference: str, to: str = "13812345678") -> dict:
    return {"to": to, "body": "您好", "reference": reference}


async def test_a_batch_is_answered_message_by_message_and_each_reference_is_recorded_once(client):
    await client.post("/sms/messages", json=sms("b-1"))
    answer = await client.post("/sms/batches", json={"messages": [sms("b-1"), sms("b-2"), sms("b-3", to="13900000000")]})
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [(r["reference"], r["code"], r["duplicate"]) for r in results] == [("b-1", 200, True), ("b-2", 201, False), ("b-3", 201, False)]
    assert [r["to"] for r in (await client.get("/records", params={"channel": "sms"})).json()["items"]] == [
        "13812345678", "13812345678", "13900000000"]


async def test_faults_in_a_batch_play_for_the_next_messages_one_by_one(client):
    await client.post("/faults", json={"channel": "sms", "mode": "unavailable", "count": 1})
    await client.post("/faults", json={"channel": "sms", "mode": "accept_then_error", "count": 1})
    answer = await client.post("/sms/batches", json={"messages": [sms("f-1"), sms("f-2"), sms("f-3")]})
    assert [r["code"] for r in answer.json()["results"]] == [503, 500, 201]
    recorded = {r["reference"] for r in (await client.get("/records")).json()["items"]}
    assert recorded == {"f-2", "f-3"}, "the refused message was not taken, the one whose answer was lost was"


async def test_a_timeout_drawn_by_one_message_keeps_the_whole_batch_waiting(client):
    await client.post("/faults", json={"channel": "push", "mode": "timeout", "delay_s": 5})
    batch = {"messages": [{"to": "device-1", "body": "x", "reference": "t-1"}, {"to": "device-2", "body": "x", "reference": "t-2"}]}
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/push/batches", json=batch, timeout=0.3)


async def test_a_batch_of_more_than_a_hundred_messages_is_refused(client):
    answer = await client.post("/sms/batches", json={"messages": [sms(f"m-{n}") for n in range(101)]})
    assert answer.status_code == 422


async def test_mail_is_recorded_from_a_real_smtp_exchange(provider, client):
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "reminders@dunning.invalid", "li.wei@example.com", "还款提醒"
    mail["X-Dunning-Reference"] = "m-1"
    mail.set_content("您好，这是一封提醒邮件。")
    for _ in range(2):
        await aiosmtplib.send(mail, hostname="127.0.0.1", port=provider.smtp_port)
    [record] = (await client.get("/records", params={"channel": "email"})).json()["items"]
    assert record["to"] == "li.wei@example.com" and record["subject"] == "还款提醒"
    assert record["body"].strip() == "您好，这是一封提醒邮件。" and record["calls"] == 2


async def test_the_provider_process_stops_cleanly_on_sigterm():
    port, smtp_port = free_port(), free_port()
    argv = [sys.executable, "-m", "dunning_platform.devstack.provider", "--port", str(port), "--smtp-port", str(smtp_port)]
    process = await asyncio.create_subprocess_exec(*argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        ready = await asyncio.wait_for(process.stdout.readline(), 30)
        assert b"dev provider ready" in ready
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_message_is_found_by_its_reference_and_an_unknown_reference_is_answered_404_naming_it(client):
    sent = await client.post("/voice/calls", json={"to": "13812345678", "script": "hi", "reference": "v-9"})
    found = await client.get("/voice/calls/v-9")
    missing = await client.get("/sms/messages/never-sent")
    assert (found.status_code, found.json()) == (200, {"reference": "v-9", "id": sent.json()["id"], "status": "accepted"})
    assert (missing.status_code, missing.json()["reference"]) == (404, "never-sent")
    [record] = (await client.get("/records", params={"reference": "v-9"})).json()["items"]
    assert record["calls"] == 1, "a lookup is not a send"
