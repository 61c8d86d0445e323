"""The lending platform's side of the run: a steady stream of loans and payments on the inbound topic,
through confluent-kafka (a client the services do not use), with a log of what the broker took."""

import heapq
import random
import threading
import time
from dataclasses import dataclass, field

from confluent_kafka import Producer

from tests.faults import events
from tests.faults.events import LoanPlan, Poison


@dataclass
class Sent:
    topic: str
    key: bytes
    value: bytes
    at: float = 0.0
    delivered: bool = False
    error: str | None = None


@dataclass
class SentLog:
    """Everything sent, by what it stands for; `delivered` once the broker acknowledged it."""

    bookings: dict[str, list[Sent]] = field(default_factory=dict)  # loan_id -> copies of its LoanBooked
    payments: dict[str, list[Sent]] = field(default_factory=dict)  # loan_id -> copies of its payment
    payment_events: dict[str, dict] = field(default_factory=dict)  # loan_id -> the payment event
    booking_events: dict[str, dict] = field(default_factory=dict)  # loan_id -> the LoanBooked event
    poison: list[tuple[Poison, Sent]] = field(default_factory=list)
    everything: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self, copies: list[Sent]) -> bool:
        return any(copy.delivered for copy in copies)


class Driver:
    def __init__(self, bootstrap: str, plans: list[LoanPlan], *, rate: float, seed: int) -> None:
        self.plans = plans
        self.rate = rate
        self.log = SentLog()
        self._rng = random.Random(seed)
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "acks": "all",
                "enable.idempotence": False,
                "linger.ms": 5,
                # Survive a broker restart: keep retrying for minutes rather than give a message up.
                "message.timeout.ms": 300_000,
                "message.max.bytes": 2 * 1024 * 1024,
            }
        )
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._stream, name="fault-driver", daemon=True)
        self.done = threading.Event()
        self.booked = 0
        self._failed: list[Sent] = []
        self._copies_of: dict[int, list[Sent]] = {}

    # Sending

    def send(self, topic: str, key: bytes, value: bytes) -> Sent:
        sent = Sent(topic, key, value, time.time())

        with self.log.lock:
            self.log.everything.append(sent)
        self._produce(sent)
        return sent

    def _produce(self, sent: Sent) -> None:
        def report(error, _message) -> None:
            sent.delivered, sent.error = error is None, None if error is None else str(error)
            if error is not None:
                self._failed.append(sent)  # a lender retries what the broker did not take

        while True:
            try:
                self._producer.produce(sent.topic, key=sent.key, value=sent.value, on_delivery=report)
                break
            except BufferError:
                self._producer.poll(0.1)
        self._producer.poll(0)

    def _retry_failed(self) -> None:
        while self._failed:
            self._produce(self._failed.pop(0))

    def send_event(self, event: dict, topic: str = events.REPAYMENTS) -> Sent:
        return self.send(topic, event["subject"].encode(), events.encode(event))

    def book(self, plan: LoanPlan) -> None:
        event = events.loan_booked(plan, self._rng)
        self.log.booking_events[plan.loan_id] = event
        self.log.bookings[plan.loan_id] = self._copies(self.send_event(event))

    def pay(self, plan: LoanPlan) -> None:
        event = events.repayment(plan)
        self.log.payment_events[plan.loan_id] = event
        self.log.payments[plan.loan_id] = self._copies(self.send_event(event))

    def inject(self, poison: Poison) -> None:
        sent = self.send(poison.topic, poison.key, poison.value)
        self.log.poison.append((poison, sent))

    def flood(self, loan_id: str, copies: int) -> None:
        """The same events again and again: a lender's retry storm, or a replayed partition."""
        for event, log in ((self.log.booking_events, self.log.bookings), (self.log.payment_events, self.log.payments)):
            if loan_id in event:
                log[loan_id].extend(self.send_event(event[loan_id]) for _ in range(copies))

    def resend_since(self, since: float) -> int:
        """What the broker may have lost in a restart, sent again: exactly what was sent before, bytes and ids."""
        with self.log.lock:
            again = [sent for sent in self.log.everything if sent.at >= since]
        for sent in again:
            copy = self.send(sent.topic, sent.key, sent.value)
            copy.at = sent.at  # a copy stands for its original; it is not itself resent later
            self._remember_copy(sent, copy)
        return len(again)

    def _copies(self, original: Sent) -> list[Sent]:
        copies = self._copies_of[id(original)] = [original]
        return copies

    def _remember_copy(self, original: Sent, copy: Sent) -> None:
        if id(original) in self._copies_of:
            self._copies_of[id(original)].append(copy)

    # The steady stream

    def start(self) -> "Driver":
        self._thread.start()
        return self

    def _stream(self) -> None:
        interval = 1.0 / self.rate
        payments: list[tuple[float, int]] = []
        started = time.monotonic()
        for n, plan in enumerate(self.plans):
            if self._stopping.is_set():
                break
            self._pause_until(started + n * interval, payments)
            self.book(plan)
            self.booked = n + 1
            if plan.repaid:
                heapq.heappush(payments, (time.monotonic() + self._rng.uniform(2, 20), n))
        while payments and not self._stopping.is_set():
            self._pause_until(payments[0][0], payments)
        self._producer.flush(60)
        self._retry_failed()
        self.done.set()

    def _pause_until(self, moment: float, payments: list[tuple[float, int]]) -> None:
        while True:
            now = time.monotonic()
            while payments and payments[0][0] <= now:
                self.pay(self.plans[heapq.heappop(payments)[1]])
            if now >= moment:
                return
            self._producer.poll(min(moment - now, 0.05))
            self._retry_failed()

    def finish(self, timeout: float = 300) -> list[Sent]:
        """Flush, retrying whatever failed, until the broker took everything; returns what it never took."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._producer.flush(min(30, max(deadline - time.monotonic(), 1)))
            if not self._failed:
                break
            self._retry_failed()
        with self.log.lock:
            return [sent for sent in self.log.everything if not sent.delivered]

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(30)
        self._producer.flush(30)
