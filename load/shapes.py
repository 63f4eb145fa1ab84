"""Load shapes: the open-loop arrival schedule and the steps of a sweep.

:class:`ArrivalSchedule` hands out absolute send times (constant spacing or a Poisson process)
shared by all users of a process. A user that picks up a slot late still measures latency from
the slot's time, so a slow target cannot slow the schedule down (no coordinated omission: the
open model of k6's ``constant-arrival-rate`` executor). :class:`Steps` maps elapsed time to a
sweep step.

Must not: import locust or gevent (the locust ``LoadTestShape`` lives in ``load.users``), sleep,
or read a clock: callers pass the time in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

__all__ = ["Arrival", "ArrivalSchedule", "Steps", "parse_duration", "parse_rate", "parse_steps"]

Arrival = Literal["constant", "poisson"]


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``5m``, ``1h``, ``1m30s`` -> seconds."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0}
    value = text.strip().lower()
    if value.replace(".", "", 1).isdigit():
        seconds = float(value)
    else:
        seconds, number = 0.0, ""
        for char in value:
            if char.isdigit() or char == ".":
                number += char
            elif char in units and number:
                seconds += float(number) * units[char]
                number = ""
            else:
                number = "x"
                break
        if number:
            raise ValueError(f"malformed duration {text!r}: use e.g. 30s, 5m, 1m30s")
    if seconds <= 0:
        raise ValueError(f"duration must be positive, got {text!r}")
    return seconds


def parse_rate(text: str) -> float:
    """``20``, ``20/s``, ``600/m`` -> requests per second."""
    value = text.strip().lower()
    per = 1.0
    for suffix, seconds in (("/s", 1.0), ("/m", 60.0), ("/min", 60.0)):
        if value.endswith(suffix):
            value, per = value[: -len(suffix)], seconds
            break
    try:
        rate = float(value) / per
    except ValueError:
        raise ValueError(f"malformed rate {text!r}: use e.g. 20/s or 600/m") from None
    if rate <= 0:
        raise ValueError(f"rate must be positive, got {text!r}")
    return rate


def parse_steps(text: str) -> tuple[float, ...]:
    """``1,2,4,8`` -> (1, 2, 4, 8): concurrency or rate steps of a sweep."""
    try:
        steps = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"malformed steps {text!r}: use e.g. 1,2,4,8") from None
    if not steps or any(s <= 0 for s in steps):
        raise ValueError(f"steps must be positive numbers, got {text!r}")
    return steps


@dataclass(frozen=True, slots=True)
class Steps:
    """Equal-length stages; ``values`` are users (closed loop) or rates (open loop)."""

    values: tuple[float, ...]
    stage_s: float

    def index_at(self, elapsed: float) -> int | None:
        """The stage running ``elapsed`` seconds after the start (None once all are done)."""
        index = int(max(0.0, elapsed) // self.stage_s)
        return index if index < len(self.values) else None


class ArrivalSchedule:
    """Absolute send times at ``rate`` per second from ``start``.

    ``share`` is this process's part of the total rate (its users over all users, when locust
    spreads users over worker processes). Rates may change by stage (a rate sweep).
    """

    def __init__(
        self,
        rate: float,
        arrival: Arrival,
        start: float,
        *,
        seed: int | None = None,
        steps: Steps | None = None,
        end: float | None = None,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate!r}")
        if arrival not in ("constant", "poisson"):
            raise ValueError(f"unknown arrival {arrival!r}; valid: constant, poisson")
        self.rate = rate
        self.arrival: Arrival = arrival
        self.start = start
        self.steps = steps
        self.end = end
        self.share = 1.0
        self._rng = random.Random(seed)
        self._next = start
        self.issued = 0

    def _rate_at(self, at: float) -> float | None:
        if self.steps is None:
            return self.rate * self.share
        index = self.steps.index_at(at - self.start)
        return None if index is None else self.steps.values[index] * self.share

    def claim(self) -> float | None:
        """The next send time (None past ``end`` or a rate sweep's last stage)."""
        at = self._next
        if self.end is not None and at >= self.end:
            return None
        rate = self._rate_at(at)
        if rate is None:
            return None
        gap = 1.0 / rate if self.arrival == "constant" else self._rng.expovariate(rate)
        self._next = at + gap
        self.issued += 1
        return at

    def step_at(self, at: float) -> int | None:
        return None if self.steps is None else self.steps.index_at(at - self.start)
