"""The scenario sections of ``summary.json``: sweep steps, fallback, and per kind (the budget and rate-limit sections are load/scenarios/'s).

Each section is computed from the run's raw records (the budget section, which needs the admin
API's spend, lives in :mod:`load.scenarios.budget`; the overhead section in :mod:`load.overhead`).
``kinds`` breaks a run down by request kind (a mixed run's chat, images, realtime ... apart),
with the Realtime figures: time to ``session.created`` and text deltas per second.

Must not: perform I/O or import locust.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from load.metrics import TOKEN_KINDS, RequestRecord, derive, distribution, summarize

__all__ = ["fallback_section", "kinds_section", "sweep_section"]


def sweep_section(
    records: Sequence[RequestRecord], values: Sequence[float], stage_s: float, unit: str
) -> list[dict[str, Any]]:
    by_step: dict[int, list[RequestRecord]] = defaultdict(list)
    for record in records:
        if record["step"] is not None:
            by_step[int(record["step"])].append(record)
    rows = []
    for index, value in enumerate(values):
        part = by_step.get(index, [])
        s = summarize(part, window_s=stage_s) if part else None
        rows.append(
            {
                "step": index,
                unit: value,
                "requests": len(part),
                "rps": s["rps"] if s else 0.0,
                "output_tokens_per_s": s["output_tokens_per_s"] if s else 0.0,
                "error_rate": s["error_rate"] if s else None,
                "ttft_p50_ms": s["ttft_ms"]["p50"] if s else None,
                "ttft_p95_ms": s["ttft_ms"]["p95"] if s else None,
                "itl_p50_ms": s["itl_ms"]["p50"] if s else None,
                "e2e_p50_ms": s["e2e_ms"]["p50"] if s else None,
            }
        )
    return rows


def fallback_section(records: Sequence[RequestRecord], model: str, baseline: str) -> dict[str, Any]:
    tested = [r for r in records if r["model"] == model]
    base = [r for r in records if r["model"] == baseline]
    t, b = summarize(tested) if tested else None, summarize(base) if base else None
    added = None
    if t and b and t["ttft_ms"]["p50"] is not None and b["ttft_ms"]["p50"] is not None:
        added = round(t["ttft_ms"]["p50"] - b["ttft_ms"]["p50"], 3)
    deployments: dict[str, int] = defaultdict(int)
    for r in tested:
        deployments[r["deployment"] or "unknown"] += 1
    return {
        "model": model,
        "baseline_model": baseline,
        "requests": len(tested),
        "client_error_rate": t["error_rate"] if t else None,
        "failures": t["failures"] if t else {},
        "added_latency_ms": added,
        "added_latency_definition": "ttft p50 of the model under test - ttft p50 of the baseline",
        "baseline_error_rate": b["error_rate"] if b else None,
        "served_by": dict(deployments),
    }


def _deltas_per_s(record: RequestRecord) -> float | None:
    times = [float(row[0]) for row in record["chunks"] if row[1] in TOKEN_KINDS]
    if len(times) < 2 or times[-1] <= times[0]:
        return None
    return (len(times) - 1) / (times[-1] - times[0]) * 1000.0


def kinds_section(records: Sequence[RequestRecord]) -> dict[str, dict[str, Any]]:
    """Per request kind: requests, error rate, and each latency figure the kind has."""
    by_kind: dict[str, list[RequestRecord]] = defaultdict(list)
    for record in records:
        by_kind[record["kind"]].append(record)
    out: dict[str, dict[str, Any]] = {}
    for kind, part in sorted(by_kind.items()):
        s = summarize(part)
        row: dict[str, Any] = {"requests": s["requests"], "error_rate": s["error_rate"]}
        row["failures"] = s["failures"]
        for name in ("headers_ms", "ttft_ms", "itl_ms", "e2e_ms"):
            if s[name]["count"]:
                row[name] = s[name]
        ok = [r for r in part if derive(r).ok]
        created = [
            marks["session_created_ms"]
            for r in ok
            if "session_created_ms" in (marks := r.get("marks") or {})
        ]
        if created:
            row["session_created_ms"] = distribution(created)
        rates = [v for r in ok if (v := _deltas_per_s(r)) is not None]
        if rates:
            row["deltas_per_s"] = distribution(rates)
        sizes = [float(r["body_bytes"]) for r in ok if r.get("body_bytes")]
        if sizes:
            row["body_bytes"] = distribution(sizes)
        out[kind] = row
    return out
