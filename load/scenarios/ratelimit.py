"""The rate-limit scenario's verdict: did the gateway accept more than the key's limit?

A limiter (GCRA, token bucket) admits a burst of up to one period's worth at first, then the
configured rate. So the verdict leaves the first period out: over the measured window after it,
the requests accepted (by their send time) must stay within ``limit x window / period``, plus
:data:`TOLERANCE` of it and one request at the window's edge. A run shorter than
:data:`MIN_PERIODS` periods cannot show that and is refused before any load is sent (exit 2).
Every 429 should carry ``Retry-After`` (counted, reported).

Must not: perform I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from load.metrics import RequestRecord
from load.slo import Slo

__all__ = ["MIN_PERIODS", "TOLERANCE", "default_slos", "rate_limit_section", "window_problem"]

TOLERANCE = 0.05  # of the limit over the measured window
MIN_PERIODS = 3  # one period of burst allowance, then at least two measured


def window_problem(duration_s: float, period_s: float) -> str | None:
    """Why a run of ``duration_s`` cannot judge a limit per ``period_s``, or None."""
    if duration_s >= MIN_PERIODS * period_s:
        return None
    return (
        f"the rate-limit scenario needs --duration of at least {MIN_PERIODS} x --rate-period "
        f"({MIN_PERIODS * period_s:g}s for a {period_s:g} s period), got {duration_s:g}s: the "
        "first period is the limiter's burst allowance and two more show its rate; pass a "
        "longer --duration (or the gateway's own shorter --rate-period)"
    )


def rate_limit_section(
    records: Sequence[RequestRecord], configured: int, period_s: float = 60.0
) -> dict[str, Any]:
    """Accepted against the key's limit of ``configured`` requests per ``period_s``."""
    accepted = [r for r in records if r["status"] is not None and r["status"] < 400]
    limited = [r for r in records if r["status"] == 429]
    start = min((r["send"] for r in records), default=0.0)
    end = max((r["send"] for r in records), default=0.0)
    measured_s = max(end - start - period_s, 0.0)
    measured = [r for r in accepted if r["send"] >= start + period_s]
    periods = measured_s / period_s
    allowed = math.floor(configured * periods * (1 + TOLERANCE)) + 1 if periods else None
    per_period = round(len(measured) / periods, 3) if periods else None
    return {
        "configured_rpm": configured,
        "period_s": period_s,
        "window_s": round(end - start, 3),
        "measured_from_s": period_s,
        "measured_window_s": round(measured_s, 3),
        "tolerance": TOLERANCE,
        "offered_rpm": round(len(records) / ((end - start) / period_s), 3) if end > start else None,
        "accepted_rpm": per_period,
        "accepted_ratio_to_configured": round(per_period / configured, 4) if per_period else None,
        "accepted_in_window": len(measured),
        "allowed_in_window": allowed,
        "excess_requests": max(len(measured) - allowed, 0) if allowed is not None else None,
        "rejected": len(limited),
        "rejected_with_retry_after": sum(1 for r in limited if r["retry_after"] is not None),
        "other_failures": sum(1 for r in records if r["error"] and r["status"] != 429),
    }


def default_slos(given: Sequence[Slo]) -> list[Slo]:
    """The gate the rate-limit scenario always applies (unless ``--slo`` sets it itself): no
    request accepted beyond the limit (with its tolerance) over the measured window."""
    if any(slo.metric == "rate_limit_excess" for slo in given):
        return []
    return [Slo("rate_limit_excess", "<=", 0.0)]
