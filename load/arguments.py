"""The command line of ``parity load``: every option, its default and its help, in one place.

Must not: validate values (``load.plan`` does, with messages that show the bad value), read the
environment, or import locust.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from load.calibration import add_calibration_arguments
from load.client_health import CPU_SATURATED, LAG_P99_SATURATED_MS
from load.scenarios import SCENARIOS

__all__ = ["add_arguments"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url",
        help="target base URL, e.g. http://127.0.0.1:8000/v1 "
        "(env PARITY_BASE_URL, OPENAI_BASE_URL)",
    )
    parser.add_argument("--api-key", help="bearer key (env PARITY_API_KEY, OPENAI_API_KEY)")
    parser.add_argument("--scenario", help=f"one of: {', '.join(SCENARIOS)}")
    load = parser.add_mutually_exclusive_group()
    load.add_argument("--users", type=int, help="closed loop: concurrent users (default 10)")
    load.add_argument("--rate", help="open loop: requests per second, e.g. 20/s or 600/m")
    parser.add_argument(
        "--max-in-flight",
        type=int,
        default=None,
        help="open loop: users available to send (default 200)",
    )
    parser.add_argument("--arrival", choices=("constant", "poisson"), default="constant")
    parser.add_argument(
        "--spawn-rate",
        type=float,
        help="closed loop: users started per second (default: all at once)",
    )
    parser.add_argument(
        "--start-jitter",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="closed loop: each user waits a random 0..SECONDS before its first request, so "
        "equal-length streams do not stay in lockstep (default 0)",
    )
    parser.add_argument("--duration", default="60s", help="run length, e.g. 30s, 5m (default 60s)")
    parser.add_argument("--model", action="append", help="chat/responses model (repeatable)")
    parser.add_argument("--baseline-model", help="fallback: a healthy model to compare against")
    parser.add_argument("--max-tokens", type=int, default=64, help="output length (default 64)")
    _models(parser)
    _payloads(parser)
    _overhead(parser)
    parser.add_argument("--steps", default="1,2,4,8", help="sweep: users (or rates) per step")
    parser.add_argument(
        "--slo",
        action="append",
        default=[],
        metavar="EXPR",
        help="e.g. 'ttft_p95_ms<800', 'error_rate<0.01' (repeatable)",
    )
    parser.add_argument("--report-dir", type=Path, help="default reports/<utc-timestamp>-load/")
    _distributed(parser)
    parser.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
    parser.add_argument(
        "--stop-timeout",
        type=float,
        default=30.0,
        help="seconds in-flight requests may finish after the run",
    )
    parser.add_argument("--seed", type=int, default=0)
    _controls(parser)
    parser.add_argument(
        "--max-client-cpu",
        type=float,
        default=CPU_SATURATED,
        help="a process busier than this share of a core invalidates the run",
    )
    parser.add_argument(
        "--max-loop-lag-ms",
        type=float,
        default=LAG_P99_SATURATED_MS,
        help="event-loop lag p99 above this invalidates the run (exit 3)",
    )
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="measure the harness's own error against a known-latency server",
    )
    add_calibration_arguments(parser)


def _models(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "models of other endpoints (default: the target's catalog, else OpenAI's model names)"
    )
    group.add_argument("--embedding-model", help="embeddings (text-embedding-3-small)")
    group.add_argument("--image-model", help="images (gpt-image-1)")
    group.add_argument("--speech-model", help="speech (tts-1)")
    group.add_argument("--transcription-model", help="transcriptions (whisper-1)")
    group.add_argument("--realtime-model", help="realtime (gpt-realtime)")


def _payloads(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("payload sizes")
    group.add_argument(
        "--prompt-tokens",
        type=int,
        help="prompt length in words (about a token each; default 24, mixed: a median of 120)",
    )
    group.add_argument(
        "--audio-seconds", type=float, default=1.0, help="transcriptions: WAV length (default 1)"
    )
    group.add_argument(
        "--image-size", default="1024x1024", help="images: WIDTHxHEIGHT or auto (1024x1024)"
    )
    group.add_argument(
        "--speech-chars", type=int, default=200, help="speech: input characters (default 200)"
    )


def _overhead(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("overhead (--scenario overhead)")
    group.add_argument("--direct-url", help="the upstream's base URL, called without the gateway")
    group.add_argument(
        "--direct-api-key",
        help="the upstream's key (env PARITY_DIRECT_API_KEY; default: --api-key)",
    )
    group.add_argument(
        "--direct-model", help="the model's name at the upstream (default: the --model name)"
    )
    group.add_argument(
        "--rounds", type=int, default=5, help="windows the spread of the added latency is over (5)"
    )


def _distributed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--processes", type=int, help="locust worker processes on this host")
    parser.add_argument("--master", action="store_true", help="locust master (multi-host)")
    parser.add_argument("--expect-workers", type=int, default=1, help="with --master")
    parser.add_argument("--worker", action="store_true", help="locust worker (multi-host)")
    parser.add_argument("--master-host", default="127.0.0.1", help="with --worker")
    parser.add_argument("--master-port", type=int, default=5557, help="master's port (5557)")
    parser.add_argument("--master-bind-host", default="*", help="with --master (default: all)")
    parser.add_argument("--web", action="store_true", help="open locust's web UI instead")
    parser.add_argument("--web-port", type=int, default=8089, help="with --web (default 8089)")


def _controls(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--admin-key", help="budget/rate-limit: admin key (env PARITY_ADMIN_KEY)")
    parser.add_argument(
        "--budget-credits", type=float, help="budget: per key (default: 20 requests)"
    )
    parser.add_argument("--budget-keys", type=int, default=4, help="budget: keys (default 4)")
    parser.add_argument("--rpm", type=int, default=600, help="rate-limit: RPM of the key")
    parser.add_argument(
        "--rate-period",
        type=float,
        default=60.0,
        help="rate-limit: the gateway's limit period in seconds (default 60: per minute)",
    )
