"""The latency a gateway adds over calling its upstream directly, and the harness's own floor.

The overhead scenario sends the same streaming requests on three sides, interleaved in one run:
``gateway`` (through the gateway), ``direct`` (straight to the upstream) and ``aa`` (straight to
the upstream again). For TTFT, ITL (pooled gaps) and E2E:

- ``added[metric][pNN]`` = the percentile through the gateway - the same percentile direct;
- the run is cut into ``rounds`` equal windows by send time; each round gives its own added and
  A/A figures, and ``spread`` shows their range (a steady overhead has a narrow one);
- ``floor[metric][pNN]``: what the harness reports between two identical sides (A/A), its own
  noise at that percentile: the larger of the run's |``aa`` - ``direct``| and the median over
  rounds of the same (one run-wide A/A difference can be near zero by luck; the rounds' median
  cannot, and is a little larger than the noise of the run-wide figure, so the floor errs on the
  side of saying "not told apart");
- ``below_floor`` lists the figures whose |added| is not above the floor: the gateway's overhead
  there is smaller than this harness can tell apart on this machine.

Must not: perform I/O or import locust; every figure comes from the records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from load.metrics import RequestMetrics, RequestRecord, derive, percentile

__all__ = ["METRICS", "PERCENTILES", "overhead_section"]

METRICS = ("ttft_ms", "itl_ms", "e2e_ms")
PERCENTILES = (50, 90, 99)
# A round needs this many values on a side for its percentiles to be reported.
_MIN_ROUND_SAMPLES = 5


def _values(rows: Iterable[RequestMetrics], metric: str) -> list[float]:
    if metric == "itl_ms":
        return sorted(g for m in rows for g in m.gaps_ms)
    return sorted(v for m in rows if (v := getattr(m, metric)) is not None)


def _percentiles(values: Sequence[float]) -> dict[str, float | None]:
    return {f"p{q}": round(percentile(values, q), 3) if values else None for q in PERCENTILES}


def _difference(a: dict[str, float | None], b: dict[str, float | None]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key, x in a.items():
        y = b[key]
        out[key] = None if x is None or y is None else round(x - y, 3)
    return out


def _figures(sides: dict[str, list[RequestMetrics]], min_samples: int) -> dict[str, Any]:
    """added and A/A per metric and percentile for one set of records (a run or a round)."""
    added: dict[str, Any] = {}
    aa: dict[str, Any] = {}
    for metric in METRICS:
        per_side = {}
        for side in ("gateway", "direct", "aa"):
            values = _values(sides.get(side, []), metric)
            per_side[side] = _percentiles(values if len(values) >= min_samples else [])
        added[metric] = _difference(per_side["gateway"], per_side["direct"])
        aa[metric] = _difference(per_side["aa"], per_side["direct"])
    return {"added": added, "aa": aa}


def _range(values: Iterable[float | None]) -> dict[str, float | int | None]:
    present = [v for v in values if v is not None]
    return {
        "min": min(present) if present else None,
        "max": max(present) if present else None,
        "rounds": len(present),
    }


def _floor(overall: float | None, rounds: Sequence[float | None]) -> float | None:
    per_round = sorted(abs(v) for v in rounds if v is not None)
    candidates = [abs(overall)] if overall is not None else []
    if per_round:
        candidates.append(per_round[len(per_round) // 2])
    return round(max(candidates), 3) if candidates else None


def overhead_section(records: Sequence[RequestRecord], rounds: int) -> dict[str, Any]:
    """``added`` (for the top of ``summary.json``) and the ``overhead`` section."""
    sides: dict[str, list[RequestMetrics]] = defaultdict(list)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # side -> [requests, failures]
    starts = [r["sched"] if r["sched"] is not None else r["send"] for r in records]
    t0, t1 = (min(starts), max(starts)) if starts else (0.0, 0.0)
    width = max(t1 - t0, 1e-9) / max(1, rounds)
    by_round: list[dict[str, list[RequestMetrics]]] = [defaultdict(list) for _ in range(rounds)]
    for record, start in zip(records, starts, strict=True):
        side = record.get("side", "gateway")
        metrics = derive(record)
        counts[side][0] += 1
        if not metrics.ok:
            counts[side][1] += 1
            continue
        sides[side].append(metrics)
        by_round[min(rounds - 1, int((start - t0) / width))][side].append(metrics)
    overall = _figures(sides, 1)
    per_round = [_figures(part, _MIN_ROUND_SAMPLES) for part in by_round]
    floor = {
        metric: {
            key: _floor(value, [r["aa"][metric][key] for r in per_round])
            for key, value in overall["aa"][metric].items()
        }
        for metric in METRICS
    }
    added: dict[str, Any] = {}
    below: list[str] = []
    for metric in METRICS:
        row: dict[str, Any] = dict(overall["added"][metric])
        row["spread"] = {
            key: _range(r["added"][metric][key] for r in per_round)
            for key in overall["added"][metric]
        }
        added[metric] = row
        for key, value in overall["added"][metric].items():
            limit = floor[metric][key]
            if value is not None and limit is not None and abs(value) <= limit:
                below.append(f"{metric}.{key}")
    section = {
        "sides": {
            side: {
                "requests": counts[side][0],
                "failures": counts[side][1],
                **{m: _percentiles(_values(sides.get(side, []), m)) for m in METRICS},
            }
            for side in ("gateway", "direct", "aa")
        },
        "floor": floor,
        "aa_spread": {
            metric: {key: _range(r["aa"][metric][key] for r in per_round) for key in floor[metric]}
            for metric in METRICS
        },
        "rounds": rounds,
        "below_floor": below,
    }
    return {"added": added, "overhead": section}
