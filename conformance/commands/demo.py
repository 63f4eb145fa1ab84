"""``parity demo``: the main job, end to end, against the embedded reference server.

Starts ``python -m reference_server serve`` on a free loopback port (its own process: the suite
never imports the server) with a fresh controls store and a random admin key, runs ``parity
check`` under the ``reference`` profile with that admin key (so every gateway promise is
judged: parity mints the keys it needs through the admin API and revokes them) and a short
``parity load`` chat-stream run against it, writes both reports under one folder, points
``reports/latest`` at it, and prints where everything is.

Must not: target anything but loopback, or leave the server running.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from conformance.errors import LaunchError
from conformance.launch import free_port, launched, reference_server_argv
from conformance.reporting import link_latest

__all__ = ["add_arguments", "run"]

# The embedded default config of the reference server serves this demo key (scope ai:consume).
_DEMO_KEY = "sk-parity-demo"
_READY_TIMEOUT_S = 60.0
# Written beside the reports and passed as ``serve --config``: the embedded catalog, keys and
# prices, with model-like pacing so the load report's TTFT and ITL have something to measure
# (a zero-latency stream makes every ITL 0 ms). spec/gateway-config.schema.json documents it.
_GATEWAY_CONFIG = """\
# parity demo: the reference server's embedded configuration with paced synthetic providers.
providers:
  synthetic: {{type: synthetic, ttft_ms: {ttft}, itl_ms: {itl}}}
  synthetic-fallback: {{type: synthetic, ttft_ms: {ttft}, itl_ms: {itl}}}
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=None,
        help="where to write the reports (default: reports/<utc-timestamp>-demo/)",
    )
    parser.add_argument(
        "--level",
        choices=("smoke", "standard", "deep"),
        default="standard",
        help="conformance level to run (default: standard)",
    )
    parser.add_argument(
        "--profile",
        default="reference",
        help="what the embedded server promises (default: reference, which describes its "
        "admin API, so every promise is judged; monday: the Models API it mirrors)",
    )
    parser.add_argument("--duration", default="10s", help="length of the load run (default: 10s)")
    parser.add_argument(
        "--users", type=int, default=20, help="concurrent streams in the load run (default: 20)"
    )
    parser.add_argument(
        "--ttft-ms",
        type=float,
        default=100.0,
        help="the reference server's time to first token (default: 100)",
    )
    parser.add_argument(
        "--itl-ms",
        type=float,
        default=10.0,
        help="the reference server's delay between tokens (default: 10)",
    )


@contextlib.contextmanager
def _reference_server(config: Path, log_path: Path, env: dict[str, str]) -> Iterator[str]:
    """``parity serve --config CONFIG`` on a free loopback port, until it is stopped; its base URL."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    argv = reference_server_argv("--config", str(config), "--port", str(port))
    # The public catalog answers without a key once the server is up.
    with launched(argv, f"{origin}/api/models", log=log_path, timeout_s=_READY_TIMEOUT_S, env=env):
        yield f"{origin}/v1"


def run(args: argparse.Namespace) -> int:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir: Path = (args.report_dir or Path("reports") / f"{stamp}-demo").resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    # A fresh store and an admin key of this run only: the server reads both from its
    # environment, the suite reads the admin key from its own (never from a file or argv).
    admin_key = "sk-parity-admin-" + secrets.token_urlsafe(16)
    env = {**os.environ, "PARITY_API_KEY": _DEMO_KEY, "PARITY_ADMIN_KEY": admin_key}
    parity = [sys.executable, "-m", "conformance"]
    for flag, value in (("--ttft-ms", args.ttft_ms), ("--itl-ms", args.itl_ms)):
        if not 0 <= value <= 10_000:
            print(f"parity demo: {flag} must be 0..10000 ms, got {value!r}", file=sys.stderr)
            return 2
    config = run_dir / "gateway.yaml"
    config.write_text(_GATEWAY_CONFIG.format(ttft=args.ttft_ms, itl=args.itl_ms), "utf-8")
    print(f"parity demo: reports in {run_dir}")
    try:
        with (
            tempfile.TemporaryDirectory(prefix="parity-demo-") as store,
            _reference_server(
                config,
                run_dir / "server.log",
                {**env, "PARITY_CONTROLS_DB": str(Path(store) / "controls.db")},
            ) as base_url,
        ):
            print(
                f"parity demo: reference server at {base_url} "
                f"(paced: TTFT {args.ttft_ms:g} ms, ITL {args.itl_ms:g} ms; {config.name})"
            )
            check_status = subprocess.call(
                [
                    *parity,
                    "check",
                    "--base-url",
                    base_url,
                    "--level",
                    args.level,
                    "--profile",
                    args.profile,
                    "--report-dir",
                    str(run_dir / "check"),
                ],
                env=env,
            )
            load_status = subprocess.call(
                [
                    *parity,
                    "load",
                    "--base-url",
                    base_url,
                    "--scenario",
                    "chat-stream",
                    "--users",
                    str(args.users),
                    "--duration",
                    args.duration,
                    "--report-dir",
                    str(run_dir / "load"),
                ],
                env=env,
            )
    except LaunchError as exc:
        print(f"parity demo: the reference server did not start: {exc}", file=sys.stderr)
        return 2
    if args.report_dir is None:
        # The reports stand without the link (a file system without symlinks, say).
        with contextlib.suppress(OSError):
            link_latest(run_dir)
    print()
    print(f"parity demo: conformance report  {run_dir / 'check' / 'report.html'}")
    print(f"parity demo: load report         {run_dir / 'load' / 'report.html'}")
    if args.report_dir is None:
        print(f"parity demo: also at             {run_dir.parent / 'latest'}")
    return max(check_status, load_status)
