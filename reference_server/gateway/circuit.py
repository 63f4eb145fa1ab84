"""Circuit breakers per deployment: closed -> open after N consecutive failures -> half-open.

An open circuit refuses calls until ``cooldown_s`` have passed; then one probe is let through
(half-open). Its success closes the circuit, its failure opens it again for another cool-down.
State is per process (each uvicorn worker judges its own upstreams), which is what a breaker is
for: it protects this process from waiting on a dead upstream.

Must not: do I/O; time comes from the injected clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["CircuitBreakers", "CircuitState", "health_of"]

CircuitState = Literal["closed", "open", "half_open"]


@dataclass(slots=True)
class _Circuit:
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False


class CircuitBreakers:
    def __init__(
        self,
        failure_threshold: int = 5,
        cooldown_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {failure_threshold!r}")
        if cooldown_s < 0:
            raise ValueError(f"cooldown_s must be >= 0, got {cooldown_s!r}")
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}

    def state(self, name: str) -> CircuitState:
        circuit = self._circuits.get(name)
        if circuit is None or circuit.opened_at is None:
            return "closed"
        if circuit.probing or self._clock() - circuit.opened_at >= self.cooldown_s:
            return "half_open"
        return "open"

    def allow(self, name: str) -> bool:
        """May a call go to ``name`` now? In half-open, only the first caller gets the probe."""
        circuit = self._circuits.get(name)
        if circuit is None or circuit.opened_at is None:
            return True
        if circuit.probing:
            return False
        if self._clock() - circuit.opened_at >= self.cooldown_s:
            circuit.probing = True
            return True
        return False

    def record_success(self, name: str) -> None:
        circuit = self._circuits.get(name)
        if circuit is not None:
            circuit.failures = 0
            circuit.opened_at = None
            circuit.probing = False

    def record_failure(self, name: str) -> None:
        circuit = self._circuits.setdefault(name, _Circuit())
        circuit.failures += 1
        if circuit.probing or circuit.failures >= self.failure_threshold:
            circuit.opened_at = self._clock()
            circuit.probing = False

    def release_probe(self, name: str) -> None:
        """A probe ended without a verdict (e.g. client went away): let another probe through."""
        circuit = self._circuits.get(name)
        if circuit is not None:
            circuit.probing = False


def health_of(states: Iterable[CircuitState]) -> Literal["healthy", "degraded", "unhealthy"]:
    """A model's health from its deployments' circuits: all open -> unhealthy, any -> degraded."""
    values = list(states)
    if values and all(s == "open" for s in values):
        return "unhealthy"
    if any(s != "closed" for s in values):
        return "degraded"
    return "healthy"
