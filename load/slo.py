"""Service-level objectives for a load run: ``--slo 'ttft_p95_ms<800' --slo 'error_rate<0.01'``.

Owns the expression grammar (``<metric><op><number>``, op one of ``< <= > >=``), the catalogue of
metric names a run can be judged on, and the verdicts. A malformed expression raises
:class:`SloError` with a one-line message that shows the bad text and the valid choices.

Must not: perform I/O or import locust.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from load.errors import SloError

__all__ = ["METRICS", "Slo", "Verdict", "evaluate", "goodput_limits", "parse_slo"]

Op = Literal["<", "<=", ">", ">="]
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_DISTRIBUTIONS = ("ttft", "ttft_from_send", "headers", "itl", "itl_request_mean", "tpot", "e2e")
_STATS = ("p50", "p90", "p95", "p99", "mean", "max")

# metric name -> path into summary.json
METRICS: dict[str, tuple[str, ...]] = {
    **{
        f"{name}_{stat}_ms": (f"{name}_ms", stat)
        for name in (*_DISTRIBUTIONS, "lateness")
        for stat in _STATS
    },
    "error_rate": ("error_rate",),
    "rps": ("rps",),
    "output_tokens_per_s": ("output_tokens_per_s",),
    "goodput": ("goodput",),
    "goodput_ratio": ("goodput_ratio",),
    "burst_gap_share": ("burst_gap_share",),
    # budget: credits charged past a budget as the clients were told, answers without a charge
    "overspend_credits": ("budget", "overspend_credits"),
    "credits_unreported": ("budget", "credits_unreported"),
    # rate limit: over the window after the first period (load/scenarios/ratelimit.py)
    "accepted_rpm": ("rate_limit", "accepted_rpm"),
    "rate_limit_excess": ("rate_limit", "excess_requests"),
    "client_error_rate": ("fallback", "client_error_rate"),
    "added_latency_ms": ("fallback", "added_latency_ms"),
    # The overhead scenario: the gateway's percentile minus the same percentile direct.
    **{
        f"added_{name}_{stat}_ms": ("added", f"{name}_ms", stat)
        for name in ("ttft", "itl", "e2e")
        for stat in ("p50", "p90", "p99")
    },
    # Realtime sessions (the kinds section): time to session.created, text deltas per second.
    **{
        f"session_created_{stat}_ms": ("kinds", "realtime", "session_created_ms", stat)
        for stat in _STATS
    },
    **{f"deltas_per_s_{stat}": ("kinds", "realtime", "deltas_per_s", stat) for stat in _STATS},
}
_EXPRESSION = re.compile(r"^\s*([a-z0-9_]+)\s*(<=|>=|<|>)\s*([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*$")


@dataclass(frozen=True, slots=True)
class Slo:
    metric: str
    op: Op
    threshold: float

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.threshold:g}"


@dataclass(frozen=True, slots=True)
class Verdict:
    slo: Slo
    value: float | None
    passed: bool

    def __str__(self) -> str:
        shown = "n/a" if self.value is None else f"{self.value:g}"
        return f"{'PASS' if self.passed else 'FAIL'} {self.slo} (measured {shown})"


def parse_slo(text: str) -> Slo:
    match = _EXPRESSION.match(text)
    if match is None:
        raise SloError(
            f"malformed --slo {text!r}: expected METRIC<NUMBER (or <=, >, >=), "
            "e.g. 'ttft_p95_ms<800' or 'error_rate<0.01'"
        )
    metric, op, number = match.groups()
    if metric not in METRICS:
        examples = ", ".join(sorted(m for m in METRICS if not m.startswith("ttft_from")))
        raise SloError(f"unknown --slo metric {metric!r}; valid metrics: {examples}")
    return Slo(metric=metric, op=op, threshold=float(number))  # type: ignore[arg-type]


def _lookup(summary: Mapping[str, Any], path: tuple[str, ...]) -> float | None:
    node: Any = summary
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def evaluate(slos: list[Slo], summary: Mapping[str, Any]) -> list[Verdict]:
    """Judge each SLO; a metric the run did not produce (``n/a``) fails: nothing to show it held."""
    verdicts = []
    for slo in slos:
        value = _lookup(summary, METRICS[slo.metric])
        passed = value is not None and _OPS[slo.op](value, slo.threshold)
        verdicts.append(Verdict(slo=slo, value=value, passed=passed))
    return verdicts


def goodput_limits(slos: list[Slo]) -> dict[str, float]:
    """Per-request latency limits implied by upper-bound percentile SLOs (for goodput).

    ``ttft_p95_ms<800`` makes "TTFT under 800 ms" a condition of a good request; several bounds
    on one metric keep the tightest.
    """
    limits: dict[str, float] = {}
    for slo in slos:
        name = slo.metric.split("_p")[0] if "_p" in slo.metric else ""
        if slo.op in ("<", "<=") and name in ("ttft", "e2e", "tpot", "itl"):
            limits[name] = min(limits.get(name, slo.threshold), slo.threshold)
    return limits
