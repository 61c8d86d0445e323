"""Channel adapters: SMS, push, voice and letters over a provider's HTTP API, e-mail over SMTP.

Every call carries the reminder id as its idempotency reference, so a retry after a lost answer is the
same message to the provider, not a second one to the borrower."""

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

import aiosmtplib
import httpx

from dunning_notification.adapters.breaker import CircuitBreaker
from dunning_notification.adapters.letters import pdf_base64
from dunning_notification.domain.templates import sms_segments


@dataclass(frozen=True)
class OutboundMessage:
    reference: str
    channel: str
    to: str
    body: str
    subject: str | None = None


@dataclass(frozen=True)
class Receipt:
    provider: str
    message_id: str


class DeliveryFailed(Exception):
    """`maybe_accepted`: the provider may have taken the message (a timeout, a 500, a dropped connection).
    Such a reminder stays with that provider: only its idempotency makes a retry safe."""

    def __init__(self, reason: str, *, retryable: bool, provider: str | None = None, maybe_accepted: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.provider = provider
        self.maybe_accepted = maybe_accepted


class ChannelAdapter(Protocol):
    async def send(self, message: OutboundMessage) -> Receipt: ...


# The body each HTTP channel posts; all carry `reference`, the provider's idempotency key.
HTTP_ROUTES = {
    # Providers bill by segment: the count travels with the text (70 Chinese or 160 Latin characters each).
    "sms": ("/sms/messages", lambda m: {"to": m.to, "body": m.body, "segments": sms_segments(m.body)}),
    "push": ("/push/messages", lambda m: {"to": m.to, "title": m.subject or "", "body": m.body}),
    "voice": ("/voice/calls", lambda m: {"to": m.to, "script": m.body}),
    "letter": ("/letters", lambda m: _letter(m)),
}


def _letter(message: OutboundMessage) -> dict:
    # The print-and-post provider prints the PDF; the text goes along for its records and for letters no
    # installed font can print.
    letter = {"to": message.to, "title": message.subject or "", "body": message.body}
    return letter | {"pdf_base64": pdf_base64(message.subject or "", message.body)}


class HttpProviderChannel:
    def __init__(self, client: httpx.AsyncClient, channel: str, provider: str, callback_url: str | None = None) -> None:
        self._client = client
        self._path, self._body = HTTP_ROUTES[channel]
        self._provider = provider
        self._callback = {"callback_url": callback_url} if callback_url else {}

    async def send(self, message: OutboundMessage) -> Receipt:
        body = {**self._body(message), "reference": message.reference, **self._callback}
        headers = {"Idempotency-Key": message.reference}
        try:
            response = await self._client.post(self._path, json=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            # Nothing reached the provider: another one may take the message.
            raise self._failed(f"provider unreachable: {type(error).__name__}", retryable=True) from None
        except httpx.TimeoutException:
            raise self._failed("provider timed out", retryable=True, maybe_accepted=True) from None
        except httpx.TransportError as error:
            raise self._failed(f"provider connection lost: {type(error).__name__}", retryable=True, maybe_accepted=True) from None
        return self._receipt(response)

    def _receipt(self, response: httpx.Response) -> Receipt:
        status = response.status_code
        if status in (429, 503):
            raise self._failed(f"provider answered {status}", retryable=True)
        if status >= 500:
            raise self._failed(f"provider answered {status}", retryable=True, maybe_accepted=True)
        if status >= 400:
            raise self._failed(f"provider refused ({status}): {response.text[:200]}", retryable=False)
        return Receipt(self._provider, str(response.json()["id"]))

    def _failed(self, reason: str, **kind) -> DeliveryFailed:
        return DeliveryFailed(reason, provider=self._provider, **kind)


class SmtpChannel:
    def __init__(self, *, host: str, port: int, sender: str, timeout: float, provider: str) -> None:
        self._host, self._port, self._sender = host, port, sender
        self._timeout = timeout
        self._provider = provider

    async def send(self, message: OutboundMessage) -> Receipt:
        mail = self._compose(message)
        try:
            await aiosmtplib.send(mail, hostname=self._host, port=self._port, timeout=self._timeout)
        except aiosmtplib.SMTPResponseException as error:
            # 4xx is a transient refusal by the relay, 5xx a permanent one.
            raise DeliveryFailed(f"SMTP {error.code}: {error.message}", retryable=error.code < 500, provider=self._provider) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            # Connection trouble after DATA may hide an accepted mail; the Message-ID lets relays spot a resend.
            raise DeliveryFailed(f"SMTP unreachable: {type(error).__name__}", retryable=True, provider=self._provider) from None
        return Receipt(self._provider, mail["Message-ID"].strip("<>"))

    def _compose(self, message: OutboundMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self._sender
        mail["To"] = message.to
        mail["Subject"] = message.subject or ""
        mail["Date"] = formatdate(localtime=False)
        # A stable Message-ID per reminder: a relay or the recipient's server can spot a resend.
        mail["Message-ID"] = f"<{message.reference}@dunning.notification>"
        mail["X-Dunning-Reference"] = message.reference
        mail.set_content(message.body)
        return mail


@dataclass
class Route:
    name: str
    adapter: ChannelAdapter
    breaker: CircuitBreaker


class FailoverChannel:
    """Providers of one channel in order of preference, each behind its circuit breaker."""

    def __init__(self, routes: list[Route]) -> None:
        self._routes = routes

    async def send(self, message: OutboundMessage, pinned: str | None = None) -> Receipt:
        last: DeliveryFailed | None = None
        for route in self._candidates(pinned):
            if not route.breaker.allows():
                last = DeliveryFailed(f"circuit open for {route.name}", retryable=True, provider=route.name)
                continue
            try:
                receipt = await route.adapter.send(message)
            except DeliveryFailed as failure:
                route.breaker.failed()
                if failure.maybe_accepted or not failure.retryable:
                    raise
                last = failure
                continue
            route.breaker.succeeded()
            return receipt
        raise last or DeliveryFailed("no provider available", retryable=True)

    def _candidates(self, pinned: str | None) -> list[Route]:
        if pinned is None:
            return self._routes
        return [route for route in self._routes if route.name == pinned] or self._routes


class ChannelRouter:
    def __init__(self, channels: dict[str, FailoverChannel]) -> None:
        self._channels = channels

    def supports(self, channel: str) -> bool:
        return channel in self._channels

    async def send(self, message: OutboundMessage, pinned: str | None = None) -> Receipt:
        channel = self._channels.get(message.channel)
        if channel is None:
            raise DeliveryFailed(f"no provider configured for {message.channel}", retryable=False)
        return await channel.send(message, pinned)
