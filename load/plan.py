"""What a ``parity load`` run will do, checked before anything is sent: the :class:`Plan`.

Reads the parsed arguments and the environment once (command line > ``PARITY_*`` >
``OPENAI_*``), validates every value and raises :class:`~load.errors.UsageError` with the bad
value and the way to fix it. The report directory is made here too, so a run that cannot write
its reports fails before it loads anyone's server.

Must not: talk to the target, start processes, or import locust.
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from load.errors import UsageError
from load.scenarios import SCENARIOS, Scenario, get_scenario, ratelimit
from load.scenarios import budget as budget_scenario
from load.scenarios.payloads import Sizes, parse_image_size
from load.shapes import parse_duration, parse_rate, parse_steps
from load.slo import Slo, parse_slo

__all__ = ["Plan", "Target", "make_report_dir", "plan_run", "target_of"]


@dataclass(frozen=True, slots=True)
class Target:
    base_url: str
    api_key: str

    def __repr__(self) -> str:  # never print the key
        return f"Target(base_url={self.base_url!r}, api_key='***')"


@dataclass(frozen=True, slots=True)
class Plan:
    scenario: Scenario
    slos: tuple[Slo, ...]
    duration: float  # whole seconds (locust's -t takes whole seconds)
    rate: float | None  # open loop: requests per second; None for a closed loop
    steps: tuple[float, ...] | None  # sweep: users (closed) or rates (open) per stage
    sizes: Sizes
    direct: Target | None = None  # overhead: the upstream called without the gateway
    rounds: int = 5  # overhead: windows the added latency's spread is measured over


def _url(value: str, flag: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise UsageError(f"{flag} must start with http:// or https://, got {value!r}")
    return value.rstrip("/")


def target_of(args: argparse.Namespace) -> Target:
    base_url = (
        args.base_url or os.environ.get("PARITY_BASE_URL") or os.environ.get("OPENAI_BASE_URL")
    )
    if not base_url:
        raise UsageError("no target: pass --base-url (or set PARITY_BASE_URL)")
    key = args.api_key or os.environ.get("PARITY_API_KEY") or os.environ.get("OPENAI_API_KEY") or ""
    return Target(_url(base_url, "--base-url"), key)


def _direct(args: argparse.Namespace, scenario: Scenario) -> Target | None:
    if not scenario.overhead:
        return None
    if not args.direct_url:
        raise UsageError(
            "the overhead scenario needs --direct-url (the upstream's base URL, called without "
            "the gateway; the same URL as --base-url measures the harness's own floor)"
        )
    key = args.direct_api_key or os.environ.get("PARITY_DIRECT_API_KEY") or target_of(args).api_key
    return Target(_url(args.direct_url, "--direct-url"), key)


def _sizes(args: argparse.Namespace, scenario: Scenario) -> Sizes:
    if args.prompt_tokens is not None and not 1 <= args.prompt_tokens <= 100_000:
        raise UsageError(f"--prompt-tokens must be 1..100000, got {args.prompt_tokens!r}")
    if not 0 < args.audio_seconds <= 600:
        raise UsageError(
            f"--audio-seconds must be above 0 and at most 600, got {args.audio_seconds!r}"
        )
    # OpenAI API reference, POST /v1/audio/speech: input is at most 4096 characters.
    if not 1 <= args.speech_chars <= 4096:
        raise UsageError(f"--speech-chars must be 1..4096, got {args.speech_chars!r}")
    try:
        image_size = parse_image_size(args.image_size)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return Sizes(
        max_tokens=args.max_tokens,
        prompt_tokens=args.prompt_tokens,
        audio_seconds=args.audio_seconds,
        image_size=image_size,
        speech_chars=args.speech_chars,
        lengths=scenario.lengths,
    )


def plan_run(args: argparse.Namespace) -> Plan:
    if not args.scenario:
        raise UsageError(f"--scenario is required; valid scenarios: {', '.join(SCENARIOS)}")
    scenario = get_scenario(args.scenario)
    slos = tuple(parse_slo(text) for text in args.slo)
    try:
        # locust takes whole seconds: round up, and report the effective length.
        duration = float(math.ceil(parse_duration(args.duration)))
        rate = parse_rate(args.rate) if args.rate else None
        steps = parse_steps(args.steps) if scenario.sweep else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.users is not None and args.users < 1:
        raise UsageError(f"--users must be at least 1, got {args.users!r}")
    if not 0 <= args.start_jitter <= 600:
        raise UsageError(f"--start-jitter must be 0..600 seconds, got {args.start_jitter!r}")
    if args.max_tokens < 1:
        raise UsageError(f"--max-tokens must be at least 1, got {args.max_tokens!r}")
    if args.processes is not None and args.processes < 1:
        raise UsageError(f"--processes must be at least 1, got {args.processes!r}")
    if scenario.baseline and not args.baseline_model:
        raise UsageError(
            "the fallback scenario needs --baseline-model (a healthy model to compare)"
        )
    if not 1 <= args.rounds <= 100:
        raise UsageError(f"--rounds must be 1..100, got {args.rounds!r}")
    if scenario.name == "rate-limit":
        problem = ratelimit.window_problem(duration, args.rate_period)
        if problem is not None:
            raise UsageError(problem)
        if rate is None:
            rate = 2.0 * args.rpm / args.rate_period  # offer twice the limit
        slos = (*slos, *ratelimit.default_slos(slos))
    if scenario.name == "budget":
        slos = (*slos, *budget_scenario.default_slos(slos))
    return Plan(
        scenario=scenario,
        slos=slos,
        duration=duration,
        rate=rate,
        steps=steps,
        sizes=_sizes(args, scenario),
        direct=_direct(args, scenario),
        rounds=args.rounds,
    )


def make_report_dir(args: argparse.Namespace) -> Path:
    """``--report-dir`` (made if missing) or ``reports/<utc-timestamp>-load``; stale raw files of
    an earlier run in the same directory are removed so they cannot join this run's figures."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path: Path = (args.report_dir or Path("reports") / f"{stamp}-load").resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create --report-dir {str(path)!r}: {exc.strerror}") from None
    for stale in (*path.glob("requests-*.jsonl"), *path.glob("monitor-*.json")):
        stale.unlink()
    return path
