"""The circuit breaker: open after repeated failures, one trial after the pause, closed on success."""

from dunning_notification.adapters.breaker import CircuitBreaker


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker(ticks: Ticks) -> CircuitBreaker:
    return CircuitBreaker(failures=3, reset_after_s=10, now=ticks)


def test_the_circuit_opens_at_the_third_failure_in_a_row():
    ticks = Ticks()
    circuit = breaker(ticks)
    circuit.failed()
    circuit.failed()
    assert circuit.allows()
    circuit.failed()
    assert not circuit.allows() and circuit.state == "open"


def test_a_success_resets_the_count():
    circuit = breaker(Ticks())
    circuit.failed()
    circuit.failed()
    circuit.succeeded()
    circuit.failed()
    circuit.failed()
    assert circuit.state == "closed"


def test_after_the_pause_one_trial_call_goes_through_and_decides():
    ticks = Ticks()
    circuit = breaker(ticks)
    for _ in range(3):
        circuit.failed()
    ticks.now = 10.0
    assert circuit.state == "half-open"
    assert circuit.allows() and not circuit.allows()
    circuit.succeeded()
    assert circuit.state == "closed" and circuit.allows()


def test_a_failed_trial_opens_the_circuit_again():
    ticks = Ticks()
    circuit = breaker(ticks)
    for _ in range(3):
        circuit.failed()
    ticks.now = 10.0
    assert circuit.allows()
    circuit.failed()
    assert not circuit.allows()
