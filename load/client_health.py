"""Was the client the bottleneck? CPU and event-loop lag of every load process, judged.

Each locust process writes ``monitor-<pid>.json``: its CPU share per second and how late a 50 ms
sleep of the gevent hub woke up (every timestamp the process takes is that late too). A process
that averaged ``--max-client-cpu`` of a core, or whose lag p99 passed ``--max-loop-lag-ms``, makes
the run invalid (exit 3): its latency figures would be the client's, not the target's.

Must not: read files (callers pass the monitors in) or import locust.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypedDict

from load.metrics import distribution

__all__ = ["CPU_SATURATED", "LAG_P99_SATURATED_MS", "ClientHealth", "assess_client"]

# The client is the bottleneck when any process is this busy or its event loop this late.
CPU_SATURATED = 0.90
LAG_P99_SATURATED_MS = 20.0


class ClientHealth(TypedDict):
    processes: int
    cpu_mean: float | None
    cpu_max: float | None
    hub_lag_ms: dict[str, Any]
    saturated: bool
    reasons: list[str]


def assess_client(
    monitors: Sequence[dict[str, Any]],
    *,
    max_cpu: float = CPU_SATURATED,
    max_lag_p99_ms: float = LAG_P99_SATURATED_MS,
) -> ClientHealth:
    """Saturated when a process averaged ``max_cpu`` of a core or more, or its hub lag p99
    (how late a 50 ms sleep woke up) passed ``max_lag_p99_ms``."""
    reasons = []
    means = []
    lags: list[float] = []
    for monitor in monitors:
        cpu = [float(c) for c in monitor.get("cpu", [])]
        lag = [float(x) for x in monitor.get("lag_ms", [])]
        lags.extend(lag)
        if cpu:
            mean = math.fsum(cpu) / len(cpu)
            means.append(mean)
            if mean >= max_cpu:
                reasons.append(f"process {monitor.get('pid')} used {mean:.0%} of a core on average")
        lag_dist = distribution(lag)
        if lag_dist["p99"] is not None and lag_dist["p99"] > max_lag_p99_ms:
            reasons.append(
                f"process {monitor.get('pid')} event loop lag p99 {lag_dist['p99']:.3f} ms "
                f"> {max_lag_p99_ms:g} ms"
            )
    # A process that stopped within its first second has no CPU sample yet (lag samples only).
    samples = [float(c) for m in monitors for c in m.get("cpu") or []]
    return ClientHealth(
        processes=len(monitors),
        cpu_mean=round(max(means), 4) if means else None,
        cpu_max=round(max(samples), 4) if samples else None,
        hub_lag_ms=dict(distribution(lags)),
        saturated=bool(reasons),
        reasons=reasons,
    )
