"""Benchmark of the reference server's hot path, side by side in one run (not a test).

Measures, each server under uvicorn + httptools, one worker, in its own subprocess:

1. non-stream chat requests/s and p50/p99 latency of the reference server (synthetic provider,
   zero latency), with its controls off (``controls: {enabled: false}``: keys only) and with
   the default config (every request authenticated, metered and settled in the SQLite
   ledger), vs a minimal Starlette app returning a fixed chat body (the ceiling), each ratio
   to the ceiling reported as the median of the per-round ratios, with their range, driven by
   ``wrk`` (C, a separate process; falls back to an asyncio httpx client process if ``wrk`` is
   missing, which is then likely the bottleneck and says so);
2. the time to first byte of a chat stream through the ``openai`` passthrough provider vs
   straight to the same upstream (sequential requests, so queueing does not blur it);
3. the RSS of one worker holding 500 concurrent open streams.

Usage (from the repository root): ``python -m tests.benchmarks.bench_server [--duration 5]
[--rounds 5] [--connections 32] [--json FILE]``.

Must not: import the reference server (it is started as ``python -m reference_server``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.launch import free_port, launched, reference_server_argv

__all__ = ["bare_app", "main"]

_ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-parity-demo"
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello."}]}
_FIXED = json.dumps(
    {
        "id": "chatcmpl-fixed",
        "object": "chat.completion",
        "created": 1767225600,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello there, this is a fixed body."},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 9, "total_tokens": 19},
    }
).encode()


async def _fixed(request: Request) -> Response:
    await request.body()
    return Response(_FIXED, media_type="application/json")


# The ceiling: Starlette answering a fixed chat body (reads the request body like a real one).
bare_app = Starlette(routes=[Route("/v1/chat/completions", _fixed, methods=["POST"])])


@contextmanager
def _reference(
    config: str | None = None, env: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    port = free_port()
    args = reference_server_argv("--port", str(port))
    if config:
        args += ["--config", config]
    with launched(
        args, f"http://127.0.0.1:{port}/api/models", env={**os.environ, **(env or {})}
    ) as proc:
        yield f"http://127.0.0.1:{port}", proc.pid


@contextmanager
def _bare() -> Iterator[tuple[str, int]]:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "tests.benchmarks.bench_server:bare_app",
        "--port",
        str(port),
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    # The bare app serves only the chat route: its 404 at / says it is up.
    env = {**os.environ, "PYTHONPATH": str(_ROOT)}  # so uvicorn imports this module anywhere
    with launched(args, f"http://127.0.0.1:{port}/", ready_status=404, env=env) as proc:
        yield f"http://127.0.0.1:{port}", proc.pid


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_LUA = """
wrk.method = "POST"
wrk.body = [[%s]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


def _unit(value: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)", value)
    if not match:
        raise ValueError(f"unexpected wrk latency {value!r}")
    number, unit = float(match.group(1)), match.group(2)
    return number / 1000 if unit == "us" else number * 1000 if unit == "s" else number


def _wrk(url: str, duration: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_LUA % (json.dumps(CHAT), KEY))
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{duration}s",
                "--latency",
                "-s",
                script.name,
                f"{url}/v1/chat/completions",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=duration + 30,
        ).stdout
    finally:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p50 = _unit(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _unit(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p50_ms": p50,
        "p99_ms": p99,
        "requests": total,
        "non_2xx": float(errors.group(1)) if errors else 0.0,
    }


async def _httpx_load(url: str, duration: int, connections: int) -> dict[str, float]:
    latencies: list[float] = []
    stop = time.monotonic() + duration
    headers = {"authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=httpx.Limits(max_connections=connections)
    ) as client:

        async def worker() -> None:
            while time.monotonic() < stop:
                started = time.perf_counter()
                await client.post("/v1/chat/completions", json=CHAT)
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
        "requests": float(len(latencies)),
        "non_2xx": 0.0,
    }


def _load(url: str, pid: int, duration: int, connections: int) -> dict[str, float]:
    """Drive ``url``; also report the server's CPU time per request (robust to a shared machine)."""
    before = _cpu_seconds(pid)
    if shutil.which("wrk"):
        out = _wrk(url, duration, connections)
    else:
        print(
            "  (wrk not found: asyncio httpx client in this process; it is likely the bottleneck)"
        )
        out = asyncio.run(_httpx_load(url, duration, connections))
    out["cpu_us_per_request"] = (_cpu_seconds(pid) - before) / max(out["requests"], 1) * 1e6
    return out


async def _ttfb(url: str, count: int, model: str) -> list[float]:
    body = {**CHAT, "model": model, "stream": True}
    out = []
    async with httpx.AsyncClient(
        base_url=url, headers={"authorization": f"Bearer {KEY}"}
    ) as client:
        for _ in range(count):
            started = time.perf_counter()
            async with client.stream("POST", "/v1/chat/completions", json=body) as response:
                first = True
                async for _chunk in response.aiter_raw():
                    if first:
                        out.append((time.perf_counter() - started) * 1000)
                        first = False
    return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _rss_kib(pid: int) -> tuple[int, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return rss, hwm


async def _hold_streams(url: str, count: int, pid: int) -> dict[str, float]:
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=count + 10)
    body = {**CHAT, "stream": True}
    opened = 0
    async with httpx.AsyncClient(
        base_url=url, headers={"authorization": f"Bearer {KEY}"}, limits=limits, timeout=60
    ) as client:
        ready = asyncio.Event()
        release = asyncio.Event()

        async def one() -> None:
            nonlocal opened
            async with client.stream("POST", "/v1/chat/completions", json=body) as response:
                async for _chunk in response.aiter_raw():
                    opened += 1
                    if opened == count:
                        ready.set()
                    await release.wait()
                    break

        tasks = [asyncio.create_task(one()) for _ in range(count)]
        await asyncio.wait_for(ready.wait(), timeout=60)
        await asyncio.sleep(0.5)
        rss, hwm = _rss_kib(pid)
        release.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {"streams": float(opened), "rss_mib": rss / 1024, "peak_mib": hwm / 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument(
        "--duration", type=int, default=5, help="seconds of load per server (default 5)"
    )
    parser.add_argument(
        "--connections", type=int, default=32, help="concurrent connections (default 32)"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="interleaved rounds of part 1 (default 5)"
    )
    parser.add_argument("--ttfb-requests", type=int, default=200)
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--parts", default="1,2,3", help="which measurements to run (default 1,2,3)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration < 1:
        parser.error(
            f"--rounds and --duration must be >= 1, got {args.rounds!r}, {args.duration!r}"
        )
    results: dict[str, Any] = {}
    parts = {p.strip() for p in args.parts.split(",")}
    if "1" in parts:
        _throughput(args, results)
    if "2" in parts:
        _passthrough_ttfb(args, results)
    if "3" in parts:
        _stream_memory(args, results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def _merge(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


# The three servers of part 1, in the order they are reported.
_SERVERS = (
    ("bare", "bare Starlette, fixed body (the ceiling)"),
    ("reference_no_controls", "reference, controls: {enabled: false}"),
    ("reference", "reference, default config (metered, SQLite ledger)"),
)


def _throughput(args: argparse.Namespace, results: dict[str, Any]) -> None:
    rounds = args.rounds
    print(
        f"1. non-stream chat, {args.connections} connections, {rounds} interleaved rounds of "
        f"{args.duration}s per server (medians), one worker each"
    )
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in _SERVERS}
    with tempfile.TemporaryDirectory(prefix="parity-bench-") as tmp:
        static = Path(tmp) / "no-controls.json"
        static.write_text(json.dumps({"controls": {"enabled": False}}))  # JSON is YAML
        # A fresh ledger for the default config (not the working directory's .parity/).
        ledger = {"PARITY_CONTROLS_DB": str(Path(tmp) / "controls.db")}
        with (
            _bare() as ceiling,
            _reference(str(static)) as no_controls,
            _reference(env=ledger) as metered,
        ):
            servers = {"bare": ceiling, "reference_no_controls": no_controls, "reference": metered}
            for url, pid in servers.values():  # warm-up
                _load(url, pid, 1, args.connections)
            for _ in range(rounds):  # interleaved, so all see the same machine
                for name, (url, pid) in servers.items():
                    runs[name].append(_load(url, pid, args.duration, args.connections))
    merged = {name: _merge(values) for name, values in runs.items()}
    results.update(merged)
    for name, label in _SERVERS:
        r = merged[name]
        print(
            f"   {label:<52} {r['rps']:>7.0f} req/s   p50 {r['p50_ms']:.2f} ms   "
            f"p99 {r['p99_ms']:.2f} ms   server CPU {r['cpu_us_per_request']:.0f} us/request   "
            f"non-2xx {r['non_2xx']:.0f}"
        )
    # Each round measures the three servers back to back, so a ratio within a round compares
    # them on the same machine state; the median over rounds discards the rounds a neighbour
    # disturbed. The range shows how far single rounds strayed.
    for name, label in _SERVERS[1:]:
        suffix = "" if name == "reference" else "_no_controls"
        by_rps = [r["rps"] / b["rps"] for r, b in zip(runs[name], runs["bare"], strict=True)]
        by_cpu = [
            b["cpu_us_per_request"] / r["cpu_us_per_request"]
            for r, b in zip(runs[name], runs["bare"], strict=True)
        ]
        results[f"throughput_ratio{suffix}"] = statistics.median(by_rps)
        results[f"cpu_ratio{suffix}"] = statistics.median(by_cpu)
        results[f"cpu_ratio{suffix}_range"] = [min(by_cpu), max(by_cpu)]
        print(
            f"   {label} / bare: {results[f'throughput_ratio{suffix}']:.2f} by req/s; "
            f"{results[f'cpu_ratio{suffix}']:.2f} by server CPU per request "
            f"(rounds {min(by_cpu):.2f}-{max(by_cpu):.2f}; target >= 0.33)"
        )


def _passthrough_ttfb(args: argparse.Namespace, results: dict[str, Any]) -> None:

    print(f"2. time to first byte of a chat stream, {args.ttfb_requests} sequential requests")
    with tempfile.TemporaryDirectory() as tmp, _reference() as (upstream, _pid):
        config = Path(tmp) / "passthrough.yaml"
        config.write_text(
            json.dumps(
                {
                    "providers": {
                        "upstream": {"type": "openai", "base_url": f"{upstream}/v1", "api_key": KEY}
                    },
                    "models": [
                        {
                            "name": "gpt-4o-mini",
                            "category": "text",
                            "input_per_mtok": 0.15,
                            "output_per_mtok": 0.6,
                            "deployments": [{"provider": "upstream", "model": "gpt-4o-mini"}],
                        }
                    ],
                    "default_model": "gpt-4o-mini",
                }
            )
        )
        with _reference(str(config)) as (gateway, _gpid):
            asyncio.run(_ttfb(upstream, 20, "gpt-4o-mini"))
            asyncio.run(_ttfb(gateway, 20, "gpt-4o-mini"))
            direct = asyncio.run(_ttfb(upstream, args.ttfb_requests, "gpt-4o-mini"))
            via = asyncio.run(_ttfb(gateway, args.ttfb_requests, "gpt-4o-mini"))
    results["ttfb"] = {
        "direct_p50_ms": statistics.median(direct),
        "direct_p99_ms": _percentile(direct, 0.99),
        "passthrough_p50_ms": statistics.median(via),
        "passthrough_p99_ms": _percentile(via, 0.99),
    }
    t = results["ttfb"]
    t["added_p50_ms"] = t["passthrough_p50_ms"] - t["direct_p50_ms"]
    t["added_p99_ms"] = t["passthrough_p99_ms"] - t["direct_p99_ms"]
    print(f"   direct       p50 {t['direct_p50_ms']:.2f} ms   p99 {t['direct_p99_ms']:.2f} ms")
    print(
        f"   passthrough  p50 {t['passthrough_p50_ms']:.2f} ms   p99 {t['passthrough_p99_ms']:.2f} ms"
    )
    print(
        f"   added by the passthrough: p50 {t['added_p50_ms']:.2f} ms, p99 {t['added_p99_ms']:.2f} ms"
    )


def _stream_memory(args: argparse.Namespace, results: dict[str, Any]) -> None:
    print(f"3. RSS of one worker holding {args.streams} concurrent streams")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "slow.yaml"
        config.write_text(
            json.dumps(
                {
                    "providers": {
                        "synthetic": {"type": "synthetic", "itl_ms": 200, "output_tokens": 400}
                    },
                    "models": [
                        {
                            "name": "gpt-4o-mini",
                            "category": "text",
                            "input_per_mtok": 0.15,
                            "output_per_mtok": 0.6,
                            "deployments": [{"provider": "synthetic", "model": "gpt-4o-mini"}],
                        }
                    ],
                    "default_model": "gpt-4o-mini",
                }
            )
        )
        with _reference(str(config)) as (url, pid):
            idle, _ = _rss_kib(pid)
            held = asyncio.run(_hold_streams(url, args.streams, pid))
    held["idle_mib"] = idle / 1024
    results["streams"] = held
    print(
        f"   idle {held['idle_mib']:.1f} MiB; with {held['streams']:.0f} open streams {held['rss_mib']:.1f} MiB "
        f"(peak {held['peak_mib']:.1f} MiB, {(held['rss_mib'] - held['idle_mib']) * 1024 / max(held['streams'], 1):.1f} KiB/stream)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
