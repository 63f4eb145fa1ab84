"""The circuit breaker state machine, with an injected clock."""

from __future__ import annotations

import pytest

from reference_server.gateway.circuit import CircuitBreakers, health_of


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_circuit_opens_after_threshold_consecutive_failures() -> None:
    clock = Clock()
    breakers = CircuitBreakers(failure_threshold=3, cooldown_s=5, clock=clock)
    for _ in range(2):
        breakers.record_failure("a")
    assert breakers.state("a") == "closed"
    assert breakers.allow("a")
    breakers.record_success("a")  # resets the count: failures must be consecutive
    for _ in range(2):
        breakers.record_failure("a")
    assert breakers.allow("a")
    breakers.record_failure("a")
    assert breakers.state("a") == "open"
    assert not breakers.allow("a")
    assert breakers.state("b") == "closed"


def test_circuit_half_open_lets_one_probe_and_closes_on_success() -> None:
    clock = Clock()
    breakers = CircuitBreakers(failure_threshold=1, cooldown_s=5, clock=clock)
    breakers.record_failure("a")
    clock.now = 4.9
    assert not breakers.allow("a")
    clock.now = 5.0
    assert breakers.state("a") == "half_open"
    assert breakers.allow("a")  # the probe
    assert not breakers.allow("a")  # only one at a time
    breakers.record_success("a")
    assert breakers.state("a") == "closed"
    assert breakers.allow("a")


def test_circuit_failed_probe_reopens_for_a_new_cooldown() -> None:
    clock = Clock()
    breakers = CircuitBreakers(failure_threshold=2, cooldown_s=5, clock=clock)
    breakers.record_failure("a")
    breakers.record_failure("a")
    clock.now = 5
    assert breakers.allow("a")
    breakers.record_failure("a")  # one failed probe is enough to reopen
    assert breakers.state("a") == "open"
    clock.now = 9.9
    assert not breakers.allow("a")
    clock.now = 10
    assert breakers.allow("a")


def test_circuit_released_probe_lets_another_through() -> None:
    clock = Clock()
    breakers = CircuitBreakers(failure_threshold=1, cooldown_s=0, clock=clock)
    breakers.record_failure("a")
    assert breakers.allow("a")
    assert not breakers.allow("a")
    breakers.release_probe("a")
    assert breakers.allow("a")


@pytest.mark.parametrize(
    ("states", "health"),
    [
        (["closed", "closed"], "healthy"),
        (["open", "closed"], "degraded"),
        (["half_open"], "degraded"),
        (["open", "open"], "unhealthy"),
    ],
    ids=["all-closed", "one-open", "half-open", "all-open"],
)
def test_health_of_deployment_states(states: list, health: str) -> None:
    assert health_of(states) == health


@pytest.mark.parametrize(
    ("threshold", "cooldown"), [(0, 1), (1, -1)], ids=["threshold", "cooldown"]
)
def test_circuit_rejects_bad_settings_showing_value(threshold: int, cooldown: float) -> None:
    with pytest.raises(ValueError, match=r"-1|0"):
        CircuitBreakers(threshold, cooldown)
