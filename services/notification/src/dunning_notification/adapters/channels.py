"""Channel adapters: SMS, push, voice and letters over a provider's HTTP API, e-mail over SMTP.

Every call carries the reminder id as its idempotency reference, so a retry after a lost answer is the
same message to the provider, not a second one to the borrower."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol
from urllib.parse import quote

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
    Such a reminder stays with that provider: only its idempotency makes a retry safe.
    `answered`: the provider itself said so (a status code), rather than no answer at all (a timeout, a
    dropped or refused connection, an open circuit that kept the call from being made).
    `called`: False when no call was made at all (an open circuit): no contact, and no attempt at a provider."""

    def __init__(
        self, reason: str, *, retryable: bool, provider: str | None = None, maybe_accepted: bool = False,
        answered: bool = False, called: bool = True,
    ) -> None:
        # The text may come from the provider: a NUL in it, which PostgreSQL's text and jsonb refuse, would
        # fail the recording of the whole round it was decided in.
        reason = reason.replace("\x00", "")
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.provider = provider
        self.maybe_accepted = maybe_accepted
        self.answered = answered
        self.called = called


Result = Receipt | DeliveryFailed
# Called with a provider's name and the messages about to go to it; returns those that may go.
BeforeCall = Callable[[str, list[OutboundMessage]], Awaitable[list[OutboundMessage]]]


class ChannelAdapter(Protocol):
    async def send(self, message: OutboundMessage) -> Receipt: ...

    async def send_batch(self, messages: list[OutboundMessage]) -> list[Result]: ...


async def one_by_one(adapter: ChannelAdapter, messages: list[OutboundMessage]) -> list[Result]:
    """A batch for a provider without a batch API: each message its own call, answered in order."""
    return [await _settled(adapter, message) for message in messages]


async def _settled(adapter: ChannelAdapter, message: OutboundMessage) -> Result:
    try:
        return await adapter.send(message)
    except DeliveryFailed as failure:
        return failure


# The body each HTTP channel posts; all carry `reference`, the provider's idempotency key.
HTTP_ROUTES = {
    # Providers bill by segment: the count travels with the text (70 Chinese or 160 Latin characters each).
    "sms": ("/sms/messages", lambda m: {"to": m.to, "body": m.body, "segments": sms_segments(m.body)}),
    "push": ("/push/messages", lambda m: {"to": m.to, "title": m.subject or "", "body": m.body}),
    "voice": ("/voice/calls", lambda m: {"to": m.to, "script": m.body}),
    "letter": ("/letters", lambda m: _letter(m)),
}


# Channels whose providers take many messages in one request, each answered on its own.
BATCH_PATHS = {"sms": "/sms/batches", "push": "/push/batches"}


def _letter(message: OutboundMessage) -> dict:
    # The print-and-post provider prints the PDF; the text goes along for its records and for letters no
    # installed font can print.
    letter = {"to": message.to, "title": message.subject or "", "body": message.body}
    return letter | {"pdf_base64": pdf_base64(message.subject or "", message.body)}


class HttpProviderChannel:
    def __init__(
        self, client: httpx.AsyncClient, channel: str, provider: str, callback_url: str | None = None, *, batch_max: int = 1
    ) -> None:
        self._client = client
        self._path, self._body = HTTP_ROUTES[channel]
        self._provider = provider
        self._callback = {"callback_url": callback_url} if callback_url else {}
        self._batch_path = BATCH_PATHS.get(channel) if batch_max > 1 else None
        self.batch_max = batch_max if self._batch_path else 1

    async def send(self, message: OutboundMessage) -> Receipt:
        headers = {"Idempotency-Key": message.reference}
        response = await self._post(self._path, self._message(message), headers)
        return self._receipt(response.status_code, response)

    async def send_batch(self, messages: list[OutboundMessage]) -> list[Result]:
        """Up to `batch_max` messages in one request; each answered on its own, in order."""
        if self._batch_path is None:
            return await one_by_one(self, messages)
        try:
            response = await self._post(self._batch_path, {"messages": [self._message(m) for m in messages]}, {})
            self._check(response.status_code, response)
        except DeliveryFailed as failure:
            # The whole request failed: every message shares its fate (and its doubt).
            return [failure] * len(messages)
        return [self._settle(answer) for answer in response.json()["results"]]

    async def lookup(self, reference: str) -> Receipt | None:
        """The message the provider holds under `reference`, or None when it says it has none (the request
        never reached it). No answer, or any other one, raises: only the provider's word settles it."""
        try:
            response = await self._client.get(f"{self._path}/{quote(reference, safe='')}")
        except httpx.TransportError as error:
            raise self._failed(f"provider lookup unanswered: {type(error).__name__}", retryable=True) from None
        if response.status_code == 200:
            return Receipt(self._provider, str(response.json()["id"]))
        if _names_no_message(response, reference):
            return None
        raise self._failed(f"provider lookup answered {response.status_code}", retryable=True, answered=True)

    def _message(self, message: OutboundMessage) -> dict:
        return {**self._body(message), "reference": message.reference, **self._callback}

    async def _post(self, path: str, body: dict, headers: dict) -> httpx.Response:
        try:
            return await self._client.post(path, json=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            # Nothing reached the provider: another one may take the message.
            raise self._failed(f"provider unreachable: {type(error).__name__}", retryable=True) from None
        except httpx.TimeoutException:
            raise self._failed("provider timed out", retryable=True, maybe_accepted=True) from None
        except httpx.TransportError as error:
            raise self._failed(f"provider connection lost: {type(error).__name__}", retryable=True, maybe_accepted=True) from None

    def _settle(self, answer: dict) -> Result:
        try:
            return self._receipt(answer["code"], answer)
        except DeliveryFailed as failure:
            return failure

    def _receipt(self, status: int, answer: httpx.Response | dict) -> Receipt:
        self._check(status, answer)
        return Receipt(self._provider, str(_json(answer)["id"]))

    def _check(self, status: int, answer: httpx.Response | dict) -> None:
        if status in (429, 503):
            raise self._failed(f"provider answered {status}", retryable=True, answered=True)
        if status >= 500:
            raise self._failed(f"provider answered {status}", retryable=True, maybe_accepted=True, answered=True)
        if status >= 400:
            raise self._failed(f"provider refused ({status}): {_error_text(answer)}", retryable=False, answered=True)

    def _failed(self, reason: str, **kind) -> DeliveryFailed:
        return DeliveryFailed(reason, provider=self._provider, **kind)


def _names_no_message(response: httpx.Response, reference: str) -> bool:
    # A bare 404 may be a wrong path or a proxy; only the provider's own answer about this reference counts.
    try:
        return response.status_code == 404 and response.json().get("reference") == reference
    except ValueError:
        return False


def _json(answer: httpx.Response | dict) -> dict:
    return answer.json() if isinstance(answer, httpx.Response) else answer


def _error_text(answer: httpx.Response | dict) -> str:
    return answer.text[:200] if isinstance(answer, httpx.Response) else str(answer.get("error", ""))[:200]


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

    async def send_batch(self, messages: list[OutboundMessage]) -> list[Result]:
        return await one_by_one(self, messages)

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


def _circuit_open(route: Route) -> DeliveryFailed:
    return DeliveryFailed(f"circuit open for {route.name}", retryable=True, provider=route.name, called=False)


class FailoverChannel:
    """Providers of one channel in order of preference, each behind its circuit breaker."""

    def __init__(self, routes: list[Route]) -> None:
        self._routes = routes

    async def send(self, message: OutboundMessage, pinned: str | None = None) -> Receipt:
        last: DeliveryFailed | None = None
        for route in self._candidates(pinned):
            if not route.breaker.allows():
                last = _circuit_open(route)
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

    @property
    def batch_max(self) -> int:
        """How many messages the preferred provider takes in one request."""
        return getattr(self._routes[0].adapter, "batch_max", 1)

    async def send_batch(
        self, messages: list[OutboundMessage], pinned: str | None = None, before: BeforeCall | None = None
    ) -> dict[str, Result]:
        """Each message's outcome by reference. As `send`, one message at a time: what a provider surely did
        not take goes on to the next provider; what it may have taken stays with it. `before` is awaited
        before each provider call; a message it leaves out is not sent and gets no outcome."""
        outcomes: dict[str, Result] = {}
        waiting = messages
        for route in self._candidates(pinned):
            if not waiting:
                break
            if not route.breaker.allows():
                outcomes |= {m.reference: _circuit_open(route) for m in waiting}
                continue
            if before is not None and not (waiting := await before(route.name, waiting)):
                break
            results = await route.adapter.send_batch(waiting)
            waiting = self._settle(route, waiting, results, outcomes)
        return outcomes

    @staticmethod
    def _settle(route: Route, messages: list[OutboundMessage], results: list[Result], outcomes: dict) -> list[OutboundMessage]:
        """Record each result (and tell the breaker, once per request); return those another may take."""
        passed_on = []
        for message, result in zip(messages, results, strict=True):
            outcomes[message.reference] = result
            if isinstance(result, DeliveryFailed) and result.retryable and not result.maybe_accepted:
                passed_on.append(message)
        _tell_breaker(route, results)
        return passed_on

    def can_look_up(self, provider: str) -> bool:
        return any(route.name == provider and hasattr(route.adapter, "lookup") for route in self._routes)

    async def lookup(self, reference: str, provider: str) -> Receipt | None:
        """Ask `provider` whether it holds the message; raises DeliveryFailed when it gives no answer."""
        route = next(route for route in self._routes if route.name == provider)
        if not route.breaker.allows():
            raise _circuit_open(route)
        try:
            found = await route.adapter.lookup(reference)
        except DeliveryFailed:
            route.breaker.failed()
            raise
        route.breaker.succeeded()
        return found

    def _candidates(self, pinned: str | None) -> list[Route]:
        if pinned is None:
            return self._routes
        return [route for route in self._routes if route.name == pinned] or self._routes


def _tell_breaker(route: Route, results: list[Result]) -> None:
    """The breaker counts requests, not messages: a batch request that failed (as a whole, or for every
    message in it) is one failure of the provider, and one it took any message of is a success. A provider
    without a batch API was called once per message: one verdict each, in order."""
    if getattr(route.adapter, "batch_max", 1) > 1:
        results = [next((r for r in results if isinstance(r, Receipt)), results[0])]
    for result in results:
        if isinstance(result, Receipt):
            route.breaker.succeeded()
        else:
            route.breaker.failed()


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

    def can_look_up(self, channel: str, provider: str) -> bool:
        """Whether `provider` of `channel` can say if it holds a message (SMTP cannot)."""
        found = self._channels.get(channel)
        return found is not None and found.can_look_up(provider)

    async def lookup(self, channel: str, reference: str, provider: str) -> Receipt | None:
        return await self._channels[channel].lookup(reference, provider)

    def batch_max(self, channel: str) -> int:
        found = self._channels.get(channel)
        return found.batch_max if found else 1

    async def send_batch(
        self, channel: str, messages: list[OutboundMessage], pinned: str | None = None, before: BeforeCall | None = None
    ) -> dict[str, Result]:
        found = self._channels.get(channel)
        if found is None:
            failure = DeliveryFailed(f"no provider configured for {channel}", retryable=False)
            return {message.reference: failure for message in messages}
        return await found.send_batch(messages, pinned, before)
