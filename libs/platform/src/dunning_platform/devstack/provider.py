"""The dev channel provider: small HTTP APIs for SMS, push, voice and letters, and an SMTP server, that
record what they receive instead of reaching anyone.

Like a real provider it is idempotent: a message carrying a reference (or an Idempotency-Key header)
it has already accepted is answered with the same id and not recorded twice. Tests read what arrived
with `GET /records` and break it on purpose with `POST /faults` (the next N calls time out, fail with
500 or 503, are accepted but answered with 500 as if the answer were lost, are accepted and then the
connection is dropped mid-answer, or are accepted and then reported undelivered). A message with a `callback_url` gets a delivery receipt posted there, signed with
HMAC-SHA256 (`--receipt-secret` or DUNNING_PROVIDER_RECEIPT_SECRET), as real SMS and voice providers do.

SMS and push also take batches (`POST /sms/batches`, `POST /push/batches`: `{"messages": [...]}`, up to
100 messages, each as the single API takes it), answered per message in order: `{"results": [{"reference",
"code": 201 | 200 | 4xx | 5xx, "id", "status", "duplicate"} | {"reference", "code", "error"}]}`. Each
message is idempotent by its reference and draws its own fault.

A message can be looked up by its reference, as a caller that lost an answer asks a real provider whether
its request arrived: `GET /sms/messages/{reference}`, `/push/messages/{reference}`, `/voice/calls/{reference}`,
`/letters/{reference}` answer 200 `{"reference", "id", "status"}`, or 404 `{"reference", "error"}` when no
message carries it. A lookup draws the channel's next fault like any call.

Run: python -m dunning_platform.devstack.provider --host 127.0.0.1 --port 8009 --smtp-port 8025
"""

import argparse
import asyncio
import email
import email.policy
import hashlib
import hmac
import itertools
import json
import logging
import os
import signal
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import httpx
import uvicorn
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI, Header, Query, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

log = logging.getLogger("dunning.provider")

CHANNELS = ("sms", "push", "voice", "letter", "email")
FaultMode = Literal["error", "unavailable", "timeout", "accept_then_error", "drop", "reject", "undelivered"]
SIGNATURE_HEADER = "X-Dunning-Signature"


@dataclass
class Fault:
    mode: FaultMode
    remaining: int
    delay_s: float = 30.0


@dataclass
class ProviderState:
    """Everything received, by channel and idempotency key, plus the faults still to be played."""

    records: list[dict] = field(default_factory=list)
    # An idempotency key names one message whatever the channel it came on, as at a real provider account:
    # a retry on another channel is the same message, not a second one to the borrower.
    by_key: dict[str, dict] = field(default_factory=dict)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def accept(self, channel: str, key: str | None, to: str, payload: dict) -> tuple[dict, bool]:
        """Record a message; (record, False) when its key was seen before and nothing new was recorded."""
        known = self.by_key.get(key) if key else None
        if known is not None:
            known["calls"] += 1
            return known, False
        record = {
            "id": f"{channel}-{next(self._ids):08d}",
            "channel": channel,
            "to": to,
            "reference": key,
            "received_at": datetime.now(UTC).isoformat(),
            "calls": 1,
            **payload,
        }
        self.records.append(record)
        if key:
            self.by_key[key] = record
        return record, True

    def next_fault(self, channel: str) -> Fault | None:
        for name in (channel, "*"):
            queue = self.faults.get(name) or []
            if queue:
                fault = queue[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.pop(0)
                return fault
        return None

    def find(self, channel: str | None, to: str | None, reference: str | None) -> list[dict]:
        return [
            r
            for r in self.records
            if (channel is None or r["channel"] == channel)
            and (to is None or r["to"] == to)
            and (reference is None or r["reference"] == reference)
        ]

    def reset(self) -> None:
        self.records.clear()
        self.by_key.clear()
        self.faults.clear()


# HTTP API


class SmsIn(BaseModel):
    to: str = Field(min_length=3, max_length=32)
    body: str = Field(min_length=1, max_length=2000)
    segments: int | None = Field(default=None, ge=1, le=20, description="SMS parts the sender counted")
    reference: str | None = Field(default=None, max_length=256)
    callback_url: str | None = Field(default=None, description="where to post the signed delivery receipt")
    sender: str | None = None


class PushIn(BaseModel):
    to: str = Field(min_length=1, max_length=256, description="device token or app user id")
    title: str = ""
    body: str = Field(min_length=1, max_length=4000)
    reference: str | None = Field(default=None, max_length=256)
    callback_url: str | None = Field(default=None, description="where to post the signed delivery receipt")


class VoiceIn(BaseModel):
    to: str = Field(min_length=3, max_length=32)
    script: str = Field(min_length=1, max_length=4000)
    reference: str | None = Field(default=None, max_length=256)
    callback_url: str | None = Field(default=None, description="where to post the signed delivery receipt")


class LetterIn(BaseModel):
    to: str = Field(min_length=1, max_length=500, description="addressee and postal address")
    title: str = ""
    body: str | None = None
    pdf_base64: str | None = None
    reference: str | None = Field(default=None, max_length=256)
    callback_url: str | None = Field(default=None, description="where to post the signed delivery receipt")


# Real SMS and push providers take up to this many messages in one request, each answered on its own.
BATCH_LIMIT = 100


class SmsBatchIn(BaseModel):
    messages: list[SmsIn] = Field(min_length=1, max_length=BATCH_LIMIT)


class PushBatchIn(BaseModel):
    messages: list[PushIn] = Field(min_length=1, max_length=BATCH_LIMIT)


class FaultIn(BaseModel):
    channel: str = Field(default="*", description="sms, push, voice, letter, email, or * for every channel")
    mode: FaultMode = "error"
    count: int = Field(default=1, ge=1, le=10_000)
    delay_s: float = Field(default=30.0, ge=0, le=600)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, as the notification webhook verifies it."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class ReceiptSender:
    """Posts a signed delivery receipt for each accepted message that asked for one, shortly after."""

    def __init__(self, secret: str | None, delay_s: float = 0.05) -> None:
        self.secret = secret
        self.delay_s = delay_s
        self._tasks: set[asyncio.Task] = set()
        self.sent: list[dict] = []

    def schedule(self, record: dict, fault: Fault | None) -> None:
        if not self.secret or not record.get("callback_url"):
            return
        delivered = not (fault and fault.mode == "undelivered")
        receipt = {
            "id": record["id"],
            "reference": record["reference"],
            "status": "delivered" if delivered else "failed",
            "reason": None if delivered else _UNDELIVERED_REASONS.get(record["channel"], "undeliverable"),
            "occurred_at": datetime.now(UTC).isoformat(),
        }
        task = asyncio.create_task(self._post(record["callback_url"], receipt))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, url: str, receipt: dict) -> None:
        await asyncio.sleep(self.delay_s)
        body = json.dumps(receipt).encode()
        headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(self.secret, int(time.time()), body)}
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.post(url, content=body, headers=headers)
            self.sent.append(receipt | {"answer": response.status_code})
        except httpx.HTTPError as error:
            log.warning("delivery receipt to %s failed: %s", url, type(error).__name__)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


_REFUSALS = {"error": 500, "unavailable": 503, "reject": 400}
_UNDELIVERED_REASONS = {"sms": "handset unreachable", "voice": "no answer", "push": "device unregistered",
                        "letter": "returned to sender"}


def create_provider_app(state: ProviderState | None = None, receipts: ReceiptSender | None = None) -> FastAPI:
    state = state or ProviderState()
    receipts = receipts or ReceiptSender(None)
    app = FastAPI(title="dev channel provider", version="1.0.0")
    app.state.provider = state

    async def accept(channel: str, body: BaseModel, idempotency_key: str | None, to: str) -> Response:
        key = idempotency_key or getattr(body, "reference", None)
        fault = state.next_fault(channel)
        if fault and fault.mode == "timeout":
            await asyncio.sleep(fault.delay_s)
            return JSONResponse({"error": "gateway timeout"}, status_code=504)
        answer, status = settle(channel, body, key, to, fault)
        if fault and fault.mode == "drop":
            return StreamingResponse(_dropped_connection(), media_type="application/json")
        return JSONResponse(answer, status_code=status)

    def settle(channel: str, body: BaseModel, key: str | None, to: str, fault: Fault | None) -> tuple[dict, int]:
        """One message's answer and HTTP status, with its fault (if any) played."""
        if fault and fault.mode in _REFUSALS:
            return {"error": f"injected fault: {fault.mode}"}, _REFUSALS[fault.mode]
        record, fresh = state.accept(channel, key, to, body.model_dump(exclude={"to", "reference"}))
        if fresh:
            receipts.schedule(record, fault)
        if fault and fault.mode == "accept_then_error":
            return {"error": "injected fault: the answer was lost"}, 500
        return {"id": record["id"], "status": "accepted", "duplicate": not fresh}, 201 if fresh else 200

    async def accept_batch(channel: str, messages: list[BaseModel]) -> Response:
        """Each message of a batch is settled on its own (idempotency, faults) and answered in order.

        A timeout or a dropped connection drawn by any message hits the whole request, as it would at a
        real provider: the caller cannot tell which messages were taken."""
        results, stalled = [], None
        for message in messages:
            fault = state.next_fault(channel)
            if fault and fault.mode == "timeout":
                stalled = stalled or fault
                results.append({"reference": message.reference, "code": 504, "error": "gateway timeout"})
                continue
            answer, status = settle(channel, message, message.reference, message.to, fault)
            results.append({"reference": message.reference, "code": status, **answer})
            stalled = stalled or (fault if fault and fault.mode == "drop" else None)
        if stalled and stalled.mode == "timeout":
            await asyncio.sleep(stalled.delay_s)
            return JSONResponse({"error": "gateway timeout"}, status_code=504)
        if stalled:
            return StreamingResponse(_dropped_connection(), media_type="application/json")
        return JSONResponse({"results": results})

    @app.post("/sms/messages", status_code=201)
    async def send_sms(body: SmsIn, idempotency_key: str | None = Header(default=None)) -> Response:
        return await accept("sms", body, idempotency_key, body.to)

    @app.post("/push/messages", status_code=201)
    async def send_push(body: PushIn, idempotency_key: str | None = Header(default=None)) -> Response:
        return await accept("push", body, idempotency_key, body.to)

    @app.post("/sms/batches")
    async def send_sms_batch(body: SmsBatchIn) -> Response:
        return await accept_batch("sms", body.messages)

    @app.post("/push/batches")
    async def send_push_batch(body: PushBatchIn) -> Response:
        return await accept_batch("push", body.messages)

    @app.post("/voice/calls", status_code=201)
    async def place_call(body: VoiceIn, idempotency_key: str | None = Header(default=None)) -> Response:
        return await accept("voice", body, idempotency_key, body.to)

    @app.post("/letters", status_code=201)
    async def post_letter(body: LetterIn, idempotency_key: str | None = Header(default=None)) -> Response:
        return await accept("letter", body, idempotency_key, body.to)

    async def look_up(channel: str, reference: str) -> Response:
        fault = state.next_fault(channel)
        if fault and fault.mode == "timeout":
            await asyncio.sleep(fault.delay_s)
            return JSONResponse({"error": "gateway timeout"}, status_code=504)
        if fault and fault.mode in _REFUSALS:
            return JSONResponse({"error": f"injected fault: {fault.mode}"}, status_code=_REFUSALS[fault.mode])
        # As a re-send would be answered: the key names one message of the account, whatever its channel.
        record = state.by_key.get(reference)
        if record is None:
            return JSONResponse({"reference": reference, "error": "no message with this reference"}, status_code=404)
        return JSONResponse({"reference": reference, "id": record["id"], "status": "accepted"})

    @app.get("/sms/messages/{reference}")
    async def sms_message(reference: str) -> Response:
        return await look_up("sms", reference)

    @app.get("/push/messages/{reference}")
    async def push_message(reference: str) -> Response:
        return await look_up("push", reference)

    @app.get("/voice/calls/{reference}")
    async def voice_call(reference: str) -> Response:
        return await look_up("voice", reference)

    @app.get("/letters/{reference}")
    async def letter(reference: str) -> Response:
        return await look_up("letter", reference)

    @app.get("/records")
    async def records(
        channel: str | None = Query(default=None),
        to: str | None = Query(default=None),
        reference: str | None = Query(default=None),
    ) -> dict:
        return {"items": state.find(channel, to, reference)}

    @app.delete("/records", status_code=204)
    async def reset() -> Response:
        state.reset()
        return Response(status_code=204)

    @app.post("/faults", status_code=201)
    async def add_fault(body: FaultIn) -> dict:
        state.faults.setdefault(body.channel, []).append(Fault(body.mode, body.count, body.delay_s))
        return {"channel": body.channel, "mode": body.mode, "count": body.count}

    @app.delete("/faults", status_code=204)
    async def clear_faults() -> Response:
        state.faults.clear()
        return Response(status_code=204)

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok", "records": len(state.records)}

    return app


class DroppedConnection(Exception):
    """Raised mid-response on purpose: the server closes the connection before the answer is complete."""


async def _dropped_connection():
    yield b'{"id": '
    raise DroppedConnection("injected fault: connection dropped")


# SMTP


class MailRecorder:
    """aiosmtpd handler: every accepted mail becomes a record of channel `email`."""

    def __init__(self, state: ProviderState) -> None:
        self._state = state

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        fault = self._state.next_fault("email")
        if fault and fault.mode in ("error", "unavailable", "timeout"):
            return "451 4.3.0 Injected fault: try again later"
        if fault and fault.mode == "reject":
            return "550 5.7.1 Injected fault: rejected"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        key = message.get("X-Dunning-Reference") or message.get("Message-ID")
        body = message.get_body(preferencelist=("plain", "html"))
        payload = {
            "sender": envelope.mail_from,
            "subject": str(message.get("Subject", "")),
            "body": body.get_content() if body is not None else "",
            "message_id": message.get("Message-ID"),
        }
        record, _ = self._state.accept("email", key, ", ".join(envelope.rcpt_tos), payload)
        return f"250 2.0.0 OK queued as {record['id']}"


# Serving


class _EmbeddedServer(uvicorn.Server):
    # Signals belong to whoever runs the event loop (a test, or main() below), not to uvicorn.
    @contextmanager
    def capture_signals(self):
        yield


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # IPPROTO_TCP: asyncio then sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class DevProvider:
    """The HTTP API and the SMTP server in the running event loop. Port 0 picks a free port."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, smtp_port: int = 0, *, receipt_secret: str | None = None
    ) -> None:
        self.host = host
        self.state = ProviderState()
        self.receipts = ReceiptSender(receipt_secret)
        self._http_socket = _bind(host, port)
        self.port = self._http_socket.getsockname()[1]
        self._smtp_port = smtp_port
        self.smtp_port = smtp_port
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task | None = None
        self._smtp: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> "DevProvider":
        config = uvicorn.Config(
            create_provider_app(self.state, self.receipts), log_level="warning", lifespan="off", timeout_graceful_shutdown=2
        )
        self._server = _EmbeddedServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._http_socket]), name="dev-provider-http")
        self._smtp = await asyncio.get_running_loop().create_server(
            lambda: SMTP(MailRecorder(self.state), hostname="dev-provider", ident="dunning dev provider"),
            host=self.host,
            port=self._smtp_port,
        )
        self.smtp_port = self._smtp.sockets[0].getsockname()[1]
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        return self

    async def stop(self) -> None:
        await self.receipts.close()
        if self._smtp is not None:
            self._smtp.close()
            await self._smtp.wait_closed()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._http_socket.close()

    async def __aenter__(self) -> "DevProvider":
        return await self.start()

    async def __aexit__(self, *exc_info) -> None:
        await self.stop()


async def serve(host: str, port: int, smtp_port: int, receipt_secret: str | None = None) -> None:
    """Run until SIGTERM or SIGINT, then close both servers and return."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    provider = await DevProvider(host, port, smtp_port, receipt_secret=receipt_secret).start()
    log.info("dev provider ready: http %s, smtp %s:%d", provider.url, host, provider.smtp_port)
    print(f"dev provider ready: http {provider.url} smtp {host}:{provider.smtp_port}", flush=True)
    await stopping.wait()
    await provider.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8009)
    parser.add_argument("--smtp-port", type=int, default=8025)
    parser.add_argument(
        "--receipt-secret",
        default=os.environ.get("DUNNING_PROVIDER_RECEIPT_SECRET"),
        help="HMAC secret that signs delivery receipts; without it none are sent",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # aiosmtpd logs every envelope address at INFO; addresses stay out of the logs.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    with asyncio.Runner(loop_factory=_fastest_loop()) as runner:
        runner.run(serve(args.host, args.port, args.smtp_port, args.receipt_secret))


def _fastest_loop():
    # The provider stands in for a fast remote service in benchmarks: uvloop when it is installed.
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


if __name__ == "__main__":
    main()
