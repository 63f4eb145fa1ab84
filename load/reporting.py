"""Turns a run's raw files into its reports: ``summary.json``, ``report.html`` and a console text.

Reads ``requests-*.jsonl`` and ``monitor-*.json`` (written by the locust processes), judges the
client's own health (CPU and gevent hub lag per process: a saturated client makes every figure
suspect), adds the per-scenario sections (sweep, fallback; the budget and rate-limit sections
come from ``load/scenarios/``) and writes the reports. The HTML report carries the metric
definitions with their formulas and inline SVG plots; it loads nothing from the network.

Must not: import locust, talk to the target, or write secrets (records carry key labels only).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import Any, TypedDict

from load.metrics import TOKEN_KINDS, RequestRecord, derive, distribution, summarize
from load.plots import histogram_svg, lines_svg

__all__ = [
    "CPU_SATURATED",
    "DEFINITIONS",
    "LAG_P99_SATURATED_MS",
    "ClientHealth",
    "assess_client",
    "fallback_section",
    "read_run",
    "sweep_section",
    "text_summary",
    "write_html",
    "write_summary",
]

DEFINITIONS: dict[str, str] = {
    "start": "scheduled send time in open-loop runs (--rate), else the actual send time",
    "ttft_ms": "first token event (content, tool-call or reasoning delta; not the role-only chunk) - start",
    "ttft_from_send_ms": "first token event - actual send time (open loop: excludes lateness)",
    "headers_ms": "response headers received - start",
    "itl_ms": "every gap between consecutive token events, pooled over requests (vLLM semantics)",
    "itl_request_mean_ms": "per request: mean gap between its token events, (t_last - t_first)/(events - 1)",
    "tpot_ms": "(e2e - ttft) / (output_tokens - 1); output_tokens = usage.completion_tokens, else counted token events",
    "e2e_ms": "end of the response ([DONE] or last byte) - start",
    "lateness_ms": "actual send - scheduled send (open loop; 0 in closed loop)",
    "rps": "requests completed / window; window = first start .. last completion",
    "output_tokens_per_s": "sum of output tokens of successful requests / window",
    "goodput": "successful requests meeting every per-request latency bound of the --slo set / window (req/s)",
    "error_rate": "failed requests / requests (any error class: HTTP >= 400, transport, stream errors)",
    "burst_gap_share": "share of ITL gaps < 1 ms: events that arrived together (buffering proxy or saturated client)",
    "chunks_per_token": "token events / output tokens (< 1: several tokens per SSE chunk)",
}
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


def read_run(report_dir: Path) -> tuple[list[RequestRecord], list[dict[str, Any]]]:
    records: list[RequestRecord] = []
    for path in sorted(report_dir.glob("requests-*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            records.extend(json.loads(line) for line in lines if line.strip())
    monitors = [json.loads(p.read_text()) for p in sorted(report_dir.glob("monitor-*.json"))]
    records.sort(key=lambda r: r["sched"] if r["sched"] is not None else r["send"])
    return records, monitors


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
    return ClientHealth(
        processes=len(monitors),
        cpu_mean=round(max(means), 4) if means else None,
        cpu_max=(
            round(max(float(c) for m in monitors for c in m.get("cpu", [0.0])), 4)
            if monitors
            else None
        ),
        hub_lag_ms=dict(distribution(lags)),
        saturated=bool(reasons),
        reasons=reasons,
    )


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


def write_summary(report_dir: Path, summary: dict[str, Any]) -> Path:
    path = report_dir / "summary.json"
    path.write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def _per_second(
    records: Iterable[RequestRecord], t0: float
) -> dict[str, list[tuple[float, float]]]:
    done: dict[int, int] = defaultdict(int)
    tokens: dict[int, int] = defaultdict(int)
    ttft: dict[int, list[float]] = defaultdict(list)
    for record in records:
        m = derive(record)
        second = int(record["send"] + (record["end_ms"] or 0.0) / 1000.0 - t0)
        done[second] += 1
        # Token events by arrival second: the rate the client actually received them.
        for row in record["chunks"]:
            if row[1] in TOKEN_KINDS:
                tokens[int(record["send"] + float(row[0]) / 1000.0 - t0)] += 1
        if m.ttft_ms is not None:
            ttft[int(record["send"] - t0)].append(m.ttft_ms)
    seconds = sorted(set(done) | set(ttft) | set(tokens))
    return {
        "requests/s": [(s, float(done.get(s, 0))) for s in seconds],
        "token events/s": [(s, float(tokens.get(s, 0))) for s in seconds],
        "ttft p50 ms": [(s, sorted(v)[len(v) // 2]) for s, v in sorted(ttft.items())],
    }


def write_html(report_dir: Path, summary: dict[str, Any], records: Sequence[RequestRecord]) -> Path:
    derived = [derive(r) for r in records]
    ttfts = [m.ttft_ms for m in derived if m.ok and m.ttft_ms is not None]
    gaps = [g for m in derived if m.ok for g in m.gaps_ms]
    t0 = min((r["send"] for r in records), default=0.0)
    series = _per_second(records, t0)
    plots = [
        histogram_svg("TTFT distribution", ttfts, "ms"),
        histogram_svg("ITL distribution (pooled gaps)", gaps, "ms"),
        lines_svg("TTFT p50 over time", {"ttft p50 ms": series["ttft p50 ms"]}, "s", "ms"),
        lines_svg(
            "Requests completed per second", {"requests/s": series["requests/s"]}, "s", "req/s"
        ),
        lines_svg(
            "Token events received per second",
            {"token events/s": series["token events/s"]},
            "s",
            "events/s",
        ),
    ]
    if summary.get("sweep"):
        unit = "users" if "users" in summary["sweep"][0] else "rate"
        curve = [(row[unit], row["rps"]) for row in summary["sweep"]]
        lat = [(row[unit], row["ttft_p50_ms"] or 0.0) for row in summary["sweep"]]
        plots.append(lines_svg("Sweep: throughput", {"req/s": curve}, unit, "req/s"))
        plots.append(lines_svg("Sweep: latency", {"ttft p50 ms": lat}, unit, "ms"))
    definitions = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in DEFINITIONS.items()
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>parity load report</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto}}th{{text-align:left;padding-right:1em}}
figure{{display:inline-block;margin:0.5em}}pre{{background:#f4f4f4;padding:1em;overflow:auto}}</style></head><body>
<h1>parity load: {escape(str(summary.get("scenario")))}</h1>
<p>{escape(text_summary(summary)).replace(chr(10), "<br>")}</p>
<h2>Metric definitions</h2><table>{definitions}</table>
<h2>Plots</h2>{"".join(plots)}
<h2>summary.json</h2><pre>{escape(json.dumps(summary, indent=2))}</pre></body></html>"""
    path = report_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def _fmt(dist: dict[str, Any]) -> str:
    if not dist or dist.get("p50") is None:
        return "n/a"
    return f"p50 {dist['p50']:.1f}  p95 {dist['p95']:.1f}  p99 {dist['p99']:.1f}  mean {dist['mean']:.1f}"


def text_summary(summary: dict[str, Any]) -> str:
    client = summary.get("client", {})
    lines = [
        f"scenario {summary.get('scenario')}  target {summary.get('target')}  "
        f"mode {summary.get('mode')}  window {summary.get('window_s')} s",
        f"requests {summary.get('requests')}  ok {summary.get('successes')}  "
        f"error_rate {summary.get('error_rate')}  failures {summary.get('failures')}",
        f"rps {summary.get('rps')}  output_tokens/s {summary.get('output_tokens_per_s')}  "
        f"goodput {summary.get('goodput')} req/s",
        f"ttft_ms  {_fmt(summary.get('ttft_ms', {}))}",
        f"itl_ms   {_fmt(summary.get('itl_ms', {}))}",
        f"tpot_ms  {_fmt(summary.get('tpot_ms', {}))}",
        f"e2e_ms   {_fmt(summary.get('e2e_ms', {}))}",
        f"client   cpu {client.get('cpu_mean')}  hub lag {_fmt(client.get('hub_lag_ms', {}))}  "
        f"saturated {client.get('saturated')}",
    ]
    for name in ("budget", "rate_limit", "fallback"):
        if name in summary:
            shown = {k: v for k, v in summary[name].items() if not isinstance(v, dict | list)}
            lines.append(f"{name}  {shown}")
    for verdict in summary.get("slo", []):
        lines.append(f"slo {verdict['verdict']}")
    return "\n".join(lines)
