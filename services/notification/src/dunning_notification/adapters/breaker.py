"""A circuit breaker per provider: after repeated failures the provider is left alone for a while, so a
sick provider is not hammered and its reminders fail over at once instead of waiting on timeouts."""

import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(self, *, failures: int, reset_after_s: float, now: Callable[[], float] = time.monotonic) -> None:
        self._threshold = failures
        self._reset_after = reset_after_s
        self._now = now
        self._failures = 0
        self._open_until: float | None = None

    @property
    def state(self) -> str:
        if self._open_until is None:
            return "closed"
        return "open" if self._now() < self._open_until else "half-open"

    def allows(self) -> bool:
        """Closed: yes. Open: no. Half-open: one trial call, which decides."""
        state = self.state
        if state == "half-open":
            # Until the trial reports back, others see the breaker open.
            self._open_until = self._now() + self._reset_after
            return True
        return state == "closed"

    def succeeded(self) -> None:
        self._failures = 0
        self._open_until = None

    def failed(self) -> None:
        self._failures += 1
        if self._failures >= self._threshold:
            self._open_until = self._now() + self._reset_after
