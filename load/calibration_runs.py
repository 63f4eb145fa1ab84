"""The measured runs of ``parity load --calibrate``: a known-latency target, one harness run beside
the independent reference reader, and the error figures of a run.

The target is the reference server started as a process (``python -m reference_server serve``,
through :mod:`conformance.launch`; the harness never imports the server) with synthetic providers
whose latency is configured, and no controls (their store writes would add latency nobody
configured, which the error would then blame on the harness). A harness run is a ``parity load``
subprocess; the reference reader (:mod:`load.reference_reader`) is another, reading a few streams
of the same server in the same window.

Must not: import locust or gevent; put a key on a command line (it goes in the environment).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from conformance.launch import LaunchError, free_port, launched, reference_server_argv
from load.errors import RunError
from load.metrics import RequestRecord, derive, distribution

__all__ = ["MeasuredRun", "calibration_server", "errors_of", "harness_run", "measure", "rss_mib"]

_READY_TIMEOUT_S = 60.0
_CONFIG = """\
providers:
  calib-fast: {{type: synthetic, ttft_ms: {ttft}, itl_ms: {itl}, tokens_per_chunk: 1, output_tokens: 50}}
  calib-slow: {{type: synthetic, ttft_ms: {ttft}, itl_ms: 200, tokens_per_chunk: 1, output_tokens: 20}}
models:
  - {{name: calib-fast, category: text, supports: [chat, streaming], input_per_mtok: 1.0,
     output_per_mtok: 1.0, deployments: [{{provider: calib-fast, model: calib-fast}}]}}
  - {{name: calib-slow, category: text, supports: [chat, streaming], input_per_mtok: 1.0,
     output_per_mtok: 1.0, deployments: [{{provider: calib-slow, model: calib-slow}}]}}
default_model: calib-fast
# A known-latency target: no metering, budgets or limits, whose store writes would add latency
# that nobody configured (and that the error would then blame on the harness).
controls: {{enabled: false}}
"""


@contextlib.contextmanager
def calibration_server(report_dir: Path, ttft: float, itl: float) -> Iterator[str]:
    """The reference server with ``calib-fast`` and ``calib-slow``; yields its base URL."""
    config = report_dir / "calibration-server.yaml"
    config.write_text(_CONFIG.format(ttft=ttft, itl=itl), encoding="utf-8")
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    argv = reference_server_argv("--config", str(config), "--port", str(port))
    try:
        with launched(
            argv,
            f"{origin}/api/models",
            log=report_dir / "server.log",
            timeout_s=_READY_TIMEOUT_S,
        ):
            yield f"{origin}/v1"
    except LaunchError as exc:
        raise RunError(f"the calibration target did not start: {exc}") from None


def errors_of(values: Iterable[float], expected: float) -> dict[str, float | None]:
    """Signed and absolute error percentiles of measured values against the configured one."""
    errors = [v - expected for v in values]
    signed = distribution(errors)
    absolute = distribution(abs(e) for e in errors)
    return {
        "p50": signed["p50"],
        "p99": signed["p99"],
        "abs_p50": absolute["p50"],
        "abs_p99": absolute["p99"],
        "samples": signed["count"],
    }


def harness_run(
    base_url: str,
    key: str,
    model: str,
    *,
    users: int,
    seconds: float,
    out: Path,
    extra: list[str] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """One ``parity load --scenario chat-stream`` run: (summary, records, exit status)."""
    command = [
        sys.executable,
        "-m",
        "conformance",
        "load",
        "--base-url",
        base_url,
        "--scenario",
        "chat-stream",
        "--users",
        str(users),
        "--duration",
        f"{seconds:g}s",
        "--model",
        model,
        "--max-tokens",
        "50",
        "--report-dir",
        str(out),
        *(extra or []),
    ]
    env = {**os.environ, "PARITY_API_KEY": key}  # the key never goes on a command line
    code = subprocess.call(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    summary_path = out / "summary.json"
    if not summary_path.exists():
        raise RunError(f"the calibration load run wrote no summary (exit {code}); see {out}")
    summary = json.loads(summary_path.read_text())
    records = [json.loads(line) for line in (out / "requests.jsonl").open() if line.strip()]
    return summary, records, code


def rss_mib(report_dir: Path) -> float | None:
    """The largest peak RSS any load process of a run reported, in MiB."""
    rss = [
        max(m.get("rss_bytes") or [0])
        for m in (json.loads(p.read_text()) for p in report_dir.glob("monitor-*.json"))
    ]
    return round(max(rss) / 2**20, 2) if rss and max(rss) else None


@dataclass(frozen=True, slots=True)
class MeasuredRun:
    """A harness run and the reference reader's view of the same window (times in ms)."""

    summary: dict[str, Any]
    ttfts: list[float]
    gaps: list[float]
    events: int
    ref_requests: int
    ref_ttfts: list[float]
    ref_gaps: list[float]


def measure(
    base_url: str, key: str, model: str, *, users: int, seconds: float, out: Path, itl: float
) -> MeasuredRun:
    """One harness run with the reference reader reading the same server in the same window."""
    out.mkdir(parents=True, exist_ok=True)
    ref_out = out / "reference-reader.json"
    reader = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "load.reference_reader",
            base_url,
            model,
            "4",
            f"{seconds:g}",
            str(ref_out),
        ],
        env={**os.environ, "PARITY_API_KEY": key},
    )
    # Users start at random offsets over about one stream's length: locust starts them in
    # bursts, and equal-length streams would keep each burst together, so the server would queue
    # a burst every cycle (seen: headers at 9-19 ms p50 in lockstep, 2 ms spread out), which is
    # the load pattern's doing, not the harness's measurement error.
    stream_s = max(0.5, itl * 50 / 1000.0)
    summary, records, _ = harness_run(
        base_url,
        key,
        model,
        users=users,
        seconds=seconds,
        out=out,
        extra=["--start-jitter", f"{stream_s:g}"],
    )
    reader.wait(timeout=seconds + 120)
    metrics = [derive(cast("RequestRecord", r)) for r in records]
    ok = [m for m in metrics if m.ok]
    reference = json.loads(ref_out.read_text()) if ref_out.exists() else []
    return MeasuredRun(
        summary=summary,
        ttfts=[m.ttft_from_send_ms for m in ok if m.ttft_from_send_ms is not None],
        gaps=[g for m in ok for g in m.gaps_ms],
        events=sum(m.token_events for m in ok),
        ref_requests=len(reference),
        ref_ttfts=[r["ttft_ms"] for r in reference if r.get("ttft_ms") is not None],
        ref_gaps=[g for r in reference for g in r.get("gaps_ms", [])],
    )
