"""A run's raw files in, its plain reports out: ``summary.json`` and the console text.

Reads ``requests-*.jsonl`` and ``monitor-*.json`` (written by the locust processes), writes
``summary.json`` and renders the console summary (verdict first). The metric definitions,
with their formulas, live here and go into every summary and report. The HTML report is
:mod:`load.report_html`'s.

Must not: import locust, talk to the target, or write secrets (records carry key labels only).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

from load.metrics import RequestRecord

__all__ = ["DEFINITIONS", "read_run", "text_summary", "write_summary"]

DEFINITIONS: dict[str, str] = {
    "start": "scheduled send time in open-loop runs (--rate), else the actual send time",
    "ttft_ms": "first token event (content, tool-call or reasoning delta; not the role-only chunk) - start",
    "ttft_from_send_ms": "first token event - actual send time (open loop: excludes lateness)",
    "headers_ms": "response headers received - start",
    "itl_ms": "every gap between consecutive token events, pooled over requests (vLLM semantics)",
    "itl_request_mean_ms": "per request: mean gap between its token events, (t_last - t_first)/(events - 1)",
    "tpot_ms": "(e2e - ttft) / (output_tokens - 1); output_tokens = usage.completion_tokens, else counted token events",
    "e2e_ms": "end of the response ([DONE], the terminal Responses event, the last byte; Realtime: response.done) - start (Realtime: the connect)",
    "lateness_ms": "actual send - scheduled send (open loop; 0 in closed loop)",
    "rps": "requests completed / window; window = first start .. last completion",
    "output_tokens_per_s": "sum of output tokens of successful requests / window",
    "goodput": "successful requests meeting every per-request latency bound of the --slo set / window (req/s)",
    "error_rate": "failed requests / requests (any error class: HTTP >= 400, transport, stream errors)",
    "burst_gap_share": "share of ITL gaps < 1 ms: events that arrived together (buffering proxy or saturated client)",
    "chunks_per_token": "token events / output tokens (< 1: several tokens per SSE chunk)",
    "responses ttft_ms": "Responses streams: first response.output_text.delta (or reasoning / function-call delta) - start",
    "realtime ttft_ms": "Realtime: first text delta - the response.create it answers (not the connect)",
    "session_created_ms": "Realtime: session.created received - WebSocket connect start",
    "deltas_per_s": "Realtime and streams: (token events - 1) / (last - first token event), per request",
    "body_bytes": "images, audio, transcriptions: bytes of the response body received",
    "added": "overhead: percentile through the gateway - the same percentile straight to the upstream",
    "floor": "overhead: max(|A/A difference| over the run, its median over rounds); A/A = a second direct side - direct: the harness's own noise",
}


def read_run(report_dir: Path) -> tuple[list[RequestRecord], list[dict[str, Any]]]:
    records: list[RequestRecord] = []
    for path in sorted(report_dir.glob("requests-*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            records.extend(orjson.loads(line) for line in lines if line.strip())
    monitors = [json.loads(p.read_text()) for p in sorted(report_dir.glob("monitor-*.json"))]
    records.sort(key=lambda r: r["sched"] if r["sched"] is not None else r["send"])
    return records, monitors


def write_summary(report_dir: Path, summary: dict[str, Any]) -> Path:
    path = report_dir / "summary.json"
    path.write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def _fmt(dist: dict[str, Any]) -> str:
    if not dist or dist.get("p50") is None:
        return "n/a"
    return f"p50 {dist['p50']:.1f}  p95 {dist['p95']:.1f}  p99 {dist['p99']:.1f}  mean {dist['mean']:.1f}"


def text_summary(summary: dict[str, Any]) -> str:
    client = summary.get("client", {})
    lines = [
        f"verdict  {summary.get('verdict')}",
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
    for metric, row in (summary.get("added") or {}).items():
        spread = row.get("spread", {}).get("p50", {})
        lines.append(
            f"added {metric}  p50 {row.get('p50')}  p90 {row.get('p90')}  p99 {row.get('p99')}  "
            f"(p50 over rounds {spread.get('min')}..{spread.get('max')})"
        )
    if summary.get("overhead", {}).get("below_floor"):
        lines.append(
            "below the A/A floor (not told apart from noise): "
            + ", ".join(summary["overhead"]["below_floor"])
        )
    for name in ("budget", "rate_limit", "fallback"):
        if name in summary:
            shown = {k: v for k, v in summary[name].items() if not isinstance(v, dict | list)}
            lines.append(f"{name}  {shown}")
    for verdict in summary.get("slo", []):
        lines.append(f"slo {verdict['verdict']}")
    return "\n".join(lines)
