"""Rate limits: GCRA (generic cell rate algorithm) for requests and tokens per period, per key.

Why GCRA: one number of state per limit (the theoretical arrival time, TAT), so a check-and-update
is a single atomic read-modify-write in SQLite or a few lines of Lua in Redis, and the limit is
smooth (OpenAI: "60,000 RPM may be enforced as 1,000 requests per second") while still allowing a
burst of the whole limit from rest. Semantics, for a limit of ``L`` per ``P`` seconds:

* emission interval ``T = P / L``; a request of cost ``n`` (1 for requests, its token estimate for
  tokens) is admitted iff ``max(TAT, now) + n*T - now <= P``, then ``TAT := max(TAT, now) + n*T``;
* from rest, ``L`` units pass at once; after that, exactly ``L`` per ``P`` on average. Over an
  interval of ``W`` seconds from rest at most ``L + L*W/P`` units pass (tested for accuracy);
* the tokens limit reserves ``input estimate + max output tokens`` at admission and is corrected
  by the real usage on settlement (refund, or extra charge) and refunded on release.

Headers follow OpenAI: ``x-ratelimit-limit-{requests,tokens}``, ``x-ratelimit-remaining-*``
(integers) and ``x-ratelimit-reset-*`` (time until the limit is back at full, as a Go duration
such as ``"20ms"``, ``"1s"``, ``"6m0s"``); 429s carry ``Retry-After`` (whole seconds, rounded up)
and ``retry-after-ms``.

Must not: do I/O or read clocks (``now`` is passed in).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Dimension",
    "Limit",
    "Verdict",
    "adjust",
    "go_duration",
    "limit_headers",
    "retry_after_headers",
    "take",
]

Dimension = Literal["requests", "tokens"]


@dataclass(frozen=True, slots=True)
class Limit:
    dimension: Dimension
    limit: int
    period_s: float = 60.0

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"{self.dimension} limit must be >= 1, got {self.limit!r}")
        if not self.period_s > 0:
            raise ValueError(f"rate-limit period must be > 0 s, got {self.period_s!r}")

    @property
    def interval(self) -> float:
        return self.period_s / self.limit


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    tat: float  # the TAT to store (unchanged when refused)
    remaining: int
    reset_s: float  # until the limit is back at full
    retry_after_s: float | None  # refused: when this cost would fit; None if it never can


def take(limit: Limit, tat: float | None, now: float, cost: int) -> Verdict:
    """GCRA check-and-update for ``cost`` units."""
    if cost < 0:
        raise ValueError(f"rate-limit cost must be >= 0, got {cost!r}")
    base = now if tat is None or tat < now else tat
    candidate = base + cost * limit.interval
    # A tiny epsilon absorbs float error so that exactly L units fit from rest.
    if candidate - now <= limit.period_s + 1e-9:
        return Verdict(True, candidate, _remaining(limit, candidate, now), candidate - now, None)
    retry: float | None = None
    if cost <= limit.limit:
        retry = max(candidate - limit.period_s - now, 0.0)
    return Verdict(False, base, _remaining(limit, base, now), base - now, retry)


def adjust(limit: Limit, tat: float | None, now: float, delta: int) -> float:
    """Correct a stored TAT by ``delta`` units (negative: refund), never below ``now``."""
    base = now if tat is None or tat < now else tat
    return max(base + delta * limit.interval, now)


def _remaining(limit: Limit, tat: float, now: float) -> int:
    free = (now + limit.period_s - tat) / limit.interval
    return max(0, min(limit.limit, math.floor(free + 1e-9)))


def go_duration(seconds: float) -> str:
    """A duration the way OpenAI's headers print it (Go's time.Duration, millisecond precision)."""
    ms = max(0, math.ceil(seconds * 1000 - 1e-6))
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, frac = divmod(rest, 1000)
    sec_text = f"{secs}.{frac:03d}".rstrip("0").rstrip(".") if frac else str(secs)
    if hours:
        return f"{hours}h{minutes}m{sec_text}s"
    if minutes:
        return f"{minutes}m{sec_text}s"
    return f"{sec_text}s"


def limit_headers(limit: Limit, verdict: Verdict) -> dict[str, str]:
    name = limit.dimension
    return {
        f"x-ratelimit-limit-{name}": str(limit.limit),
        f"x-ratelimit-remaining-{name}": str(verdict.remaining),
        f"x-ratelimit-reset-{name}": go_duration(verdict.reset_s),
    }


def retry_after_headers(seconds: float) -> dict[str, str]:
    return {
        "retry-after": str(max(1, math.ceil(seconds))),
        "retry-after-ms": str(max(1, math.ceil(seconds * 1000))),
    }
