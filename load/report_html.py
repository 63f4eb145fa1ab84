"""``report.html``: the page a person reads after a run, in the order they ask their questions.

1. The verdict line: the SLOs held, or which one breached (or why the run is invalid);
2. the percentile table of every latency metric (and per request kind in a mixed run);
3. the overhead view when the run measured one: added latency and the A/A floor, and one chart
   of the gateway's and the direct side's TTFT and E2E quantiles;
4. plots with round ticks and units: distributions, and per-second time series;
5. client health, metric definitions, and ``summary.json`` itself.

One self-contained file: inline SVG and CSS, no script, nothing loaded from the network.

Must not: compute figures the summary does not hold (except the plotted series), or write secrets.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from load.metrics import TOKEN_KINDS, RequestRecord, derive
from load.plots import histogram_svg, lines_svg, quantiles_svg
from load.reporting import DEFINITIONS, text_summary

__all__ = ["write_html"]

_TABLE_METRICS = (
    ("ttft_ms", "TTFT"),
    ("ttft_from_send_ms", "TTFT from actual send"),
    ("headers_ms", "time to headers"),
    ("itl_ms", "ITL (pooled gaps)"),
    ("itl_request_mean_ms", "ITL (per-request mean)"),
    ("tpot_ms", "TPOT"),
    ("e2e_ms", "end to end"),
    ("lateness_ms", "schedule lateness"),
)
_KIND_METRICS = ("ttft_ms", "itl_ms", "e2e_ms", "session_created_ms", "deltas_per_s", "body_bytes")
_UNITS = {"deltas_per_s": "deltas/s", "body_bytes": "bytes"}
_STATS = ("count", "p50", "p90", "p95", "p99", "max", "mean")
_CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:1.5em auto;color:#111}
.verdict{font-size:1.3em;font-weight:600;padding:.6em 1em;border-radius:6px;margin:0 0 1em}
.verdict.pass{background:#dcfce7;color:#14532d}.verdict.fail{background:#fee2e2;color:#7f1d1d}
.verdict.invalid{background:#fef3c7;color:#78350f}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{padding:.25em .7em;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{border-bottom:2px solid #444}
tbody tr:nth-child(even){background:#f5f5f5}figure{display:inline-block;margin:.4em}
figcaption{font-weight:600;font-size:.95em}pre{background:#f4f4f4;padding:1em;overflow:auto}
.definitions td{text-align:left}"""


def _verdict(summary: Mapping[str, Any]) -> str:
    code = summary.get("exit_code")
    slos = summary.get("slo") or []
    if code == 0:
        held = ", ".join(escape(v["expression"]) for v in slos)
        text = (
            f"PASS: every SLO held ({held})" if slos else "PASS: the run completed (no --slo given)"
        )
        css = "pass"
    elif code == 1:
        broke = ", ".join(escape(v["verdict"]) for v in slos if not v["passed"])
        text, css = f"FAIL: SLO breached: {broke}", "fail"
    elif code == 3:
        text, css = f"INVALID: {escape(str(summary.get('verdict')))}", "invalid"
    else:
        text, css = f"FAIL: {escape(str(summary.get('verdict')))}", "fail"
    return f'<p class="verdict {css}" id="verdict">{text}</p>'


def _cell(value: Any) -> str:
    if value is None:
        return "<td>-</td>"
    if isinstance(value, float):
        return f"<td>{value:,.3f}</td>" if abs(value) < 1000 else f"<td>{value:,.0f}</td>"
    return f"<td>{escape(str(value))}</td>"


def _table(rows: Iterable[tuple[str, str, Mapping[str, Any]]], table_id: str) -> str:
    head = "".join(f"<th>{s}</th>" for s in ("metric", "unit", *_STATS))
    body = "".join(
        f"<tr><td>{escape(label)}</td><td>{escape(unit)}</td>"
        + "".join(_cell(dist.get(stat)) for stat in _STATS)
        + "</tr>"
        for label, unit, dist in rows
    )
    return (
        f'<table class="percentiles" id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _percentile_rows(summary: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
    rows = [
        (label, "ms", summary[key])
        for key, label in _TABLE_METRICS
        if isinstance(summary.get(key), dict) and summary[key].get("count")
    ]
    kinds = summary.get("kinds") or {}
    if len(kinds) > 1 or any("session_created_ms" in k for k in kinds.values()):
        for kind, figures in kinds.items():
            for key in _KIND_METRICS:
                if key in figures:
                    rows.append((f"{kind}: {key}", _UNITS.get(key, "ms"), figures[key]))
    return rows


def _overhead(summary: Mapping[str, Any], records: Sequence[RequestRecord]) -> str:
    added, section = summary.get("added"), summary.get("overhead")
    if not added or not section:
        return ""
    head = "".join(f"<th>{h}</th>" for h in ("metric", "", "p50", "p90", "p99", "p50 over rounds"))
    body = []
    for metric, row in added.items():
        spread = row["spread"]["p50"]
        span = f"{spread['min']} .. {spread['max']}" if spread["rounds"] else "-"
        body.append(
            f"<tr><td>{escape(metric)}</td><td>added</td>"
            + "".join(_cell(row[k]) for k in ("p50", "p90", "p99"))
            + f"<td>{escape(span)}</td></tr>"
        )
        floor = section["floor"][metric]
        body.append(
            "<tr><td></td><td>A/A floor</td>"
            + "".join(_cell(floor[k]) for k in ("p50", "p90", "p99"))
            + "<td></td></tr>"
        )
    below = section.get("below_floor") or []
    note = (
        f"<p>Below the A/A floor (not told apart from the harness's noise): "
        f"{escape(', '.join(below))}</p>"
        if below
        else "<p>Every added figure is above the A/A floor.</p>"
    )
    sides: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        m = derive(record)
        if m.ok:
            side = record.get("side", "gateway")
            if m.ttft_ms is not None:
                sides["ttft"][side].append(m.ttft_ms)
            if m.e2e_ms is not None:
                sides["e2e"][side].append(m.e2e_ms)
    names = {"gateway": "through the gateway", "direct": "direct", "aa": "direct again (A/A)"}
    charts = "".join(
        quantiles_svg(
            f"{label}: gateway vs direct",
            f"overhead-{metric}",
            {names[s]: sides[metric][s] for s in ("gateway", "direct", "aa") if sides[metric][s]},
            "ms",
        )
        for metric, label in (("ttft", "TTFT"), ("e2e", "End to end"))
    )
    return (
        f'<h2>Overhead</h2><table class="overhead" id="overhead"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{note}{charts}"
    )


def _per_second(
    records: Iterable[RequestRecord], t0: float
) -> dict[str, list[tuple[float, float]]]:
    done: dict[int, int] = defaultdict(int)
    tokens: dict[int, int] = defaultdict(int)
    ttft: dict[int, list[float]] = defaultdict(list)
    for record in records:
        m = derive(record)
        done[int(record["send"] + (record["end_ms"] or 0.0) / 1000.0 - t0)] += 1
        # Token events by arrival second: the rate the client actually received them.
        for row in record["chunks"]:
            if row[1] in TOKEN_KINDS:
                tokens[int(record["send"] + float(row[0]) / 1000.0 - t0)] += 1
        if m.ttft_ms is not None:
            ttft[int(record["send"] - t0)].append(m.ttft_ms)
    seconds = sorted(set(done) | set(ttft) | set(tokens))
    return {
        "requests": [(s, float(done.get(s, 0))) for s in seconds],
        "tokens": [(s, float(tokens.get(s, 0))) for s in seconds],
        "ttft": [(s, sorted(v)[len(v) // 2]) for s, v in sorted(ttft.items())],
    }


def _plots(summary: Mapping[str, Any], records: Sequence[RequestRecord]) -> str:
    derived = [derive(r) for r in records]
    ttfts = [m.ttft_ms for m in derived if m.ok and m.ttft_ms is not None]
    gaps = [g for m in derived if m.ok for g in m.gaps_ms]
    e2es = [m.e2e_ms for m in derived if m.ok and m.e2e_ms is not None]
    t0 = min((r["send"] for r in records), default=0.0)
    series = _per_second(records, t0)
    plots = []
    if ttfts:
        plots.append(histogram_svg("TTFT distribution", "ttft-histogram", ttfts, "TTFT (ms)"))
    if gaps:
        plots.append(
            histogram_svg("ITL distribution (pooled gaps)", "itl-histogram", gaps, "ITL (ms)")
        )
    plots.append(
        histogram_svg("End-to-end latency distribution", "e2e-histogram", e2es, "E2E (ms)")
    )
    if series["ttft"]:
        plots.append(
            lines_svg(
                "TTFT p50 over time",
                "ttft-time",
                {"TTFT p50": series["ttft"]},
                "time (s)",
                "TTFT (ms)",
            )
        )
    plots.append(
        lines_svg(
            "Requests completed per second",
            "requests-time",
            {"requests/s": series["requests"]},
            "time (s)",
            "requests/s",
        )
    )
    if any(v for _, v in series["tokens"]):
        plots.append(
            lines_svg(
                "Token events received per second",
                "tokens-time",
                {"events/s": series["tokens"]},
                "time (s)",
                "token events/s",
            )
        )
    if summary.get("sweep"):
        unit = "users" if "users" in summary["sweep"][0] else "rate"
        axis = "users" if unit == "users" else "offered rate (req/s)"
        curve = [(row[unit], row["rps"]) for row in summary["sweep"]]
        lat = [(row[unit], row["ttft_p50_ms"] or 0.0) for row in summary["sweep"]]
        plots.append(
            lines_svg("Sweep: throughput", "sweep-throughput", {"req/s": curve}, axis, "requests/s")
        )
        plots.append(
            lines_svg("Sweep: latency", "sweep-latency", {"TTFT p50": lat}, axis, "TTFT (ms)")
        )
    return "".join(plots)


def write_html(
    report_dir: Path, summary: Mapping[str, Any], records: Sequence[RequestRecord]
) -> Path:
    # An overhead run's own figures are the gateway side's; the overhead view shows the others.
    main = [r for r in records if r.get("side", "gateway") == "gateway"]
    definitions = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in DEFINITIONS.items()
    )
    client = summary.get("client") or {}
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>parity load report: {escape(str(summary.get("scenario")))}</title><style>{_CSS}</style></head><body>
{_verdict(summary)}
<h1>parity load: {escape(str(summary.get("scenario")))}</h1>
<p>target {escape(str(summary.get("target")))}, {escape(str(summary.get("mode")))} loop,
{summary.get("requests")} requests in {summary.get("window_s")} s ({summary.get("rps")} req/s),
error rate {summary.get("error_rate")}, output {summary.get("output_tokens_per_s")} tokens/s.</p>
<h2>Percentiles</h2>{_table(_percentile_rows(summary), "percentiles")}
{_overhead(summary, records)}
<h2>Plots</h2>{_plots(summary, main)}
<h2>Client</h2><p>{escape(str(client.get("processes")))} load process(es), CPU mean
{escape(str(client.get("cpu_mean")))} of a core, event-loop lag p99
{escape(str((client.get("hub_lag_ms") or {}).get("p99")))} ms; saturated:
{escape(str(client.get("saturated")))} {escape("; ".join(client.get("reasons") or []))}</p>
<h2>Console summary</h2><pre>{escape(text_summary(dict(summary)))}</pre>
<h2>Metric definitions</h2><table class="definitions">{definitions}</table>
<h2>summary.json</h2><pre>{escape(json.dumps(summary, indent=2))}</pre></body></html>"""
    path = report_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
