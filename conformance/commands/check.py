"""``parity check``: run the conformance suite against a target and write the reports.

Owns: the command's arguments, reading them with the environment (``--base-url`` >
``PARITY_BASE_URL`` > ``OPENAI_BASE_URL``; ``--api-key`` > ``PARITY_API_KEY`` >
``OPENAI_API_KEY``) into a frozen Target, live progress and the summary in the terminal, and
the exit status: 0 every run check passed, 1 at least one failed, 2 usage error or target
unreachable (one line saying what to fix, never a traceback).

Must not: judge responses or render reports itself (the runner and the writers do).
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from conformance.registry import CAPABILITIES, LEVELS, Capability, Level

if TYPE_CHECKING:
    from conformance.profiles import Profile
    from conformance.registry import CheckSpec
    from conformance.runner import RunResult

__all__ = ["UsageError", "add_arguments", "parse_models", "resolve", "run"]

DEFAULT_LEVEL: Level = "standard"


class UsageError(Exception):
    """A mistake in the command line or environment; the message says how to fix it."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="the target's API base URL, e.g. http://127.0.0.1:8000/v1 "
        "(default: $PARITY_BASE_URL, then $OPENAI_BASE_URL)",
    )
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        help="API key sent as a bearer token (default: $PARITY_API_KEY, then $OPENAI_API_KEY)",
    )
    parser.add_argument(
        "--level",
        choices=LEVELS,
        default=DEFAULT_LEVEL,
        help="smoke (< ~30 requests), standard (default) or deep",
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="CAPABILITY=MODEL",
        help=f"pin the model for a capability ({', '.join(CAPABILITIES)}); "
        "CAPABILITY=none marks it as not offered; repeatable",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="AREA[,AREA]",
        help="run only the checks of these areas (see `parity checks list`)",
    )
    parser.add_argument(
        "--skip",
        action="extend",
        nargs="+",
        default=[],
        metavar="CHECK_ID",
        help="skip these check ids (reported as skipped)",
    )
    parser.add_argument(
        "--profile",
        default="openai",
        metavar="NAME|FILE",
        help="what the target promises: built-in 'openai' (default) or 'monday', or a YAML file",
    )
    parser.add_argument(
        "--report-dir",
        metavar="DIR",
        help="where to write report.json, junit.xml and report.html "
        "(default: reports/<utc-timestamp>/, linked as reports/latest)",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        metavar="N",
        help="stop sending requests after N (checks that need more are skipped)",
    )
    parser.add_argument(
        "--seed",
        metavar="N|random",
        help="seed of generated cases (deep level): N replays a run (default 0, the same cases "
        "every run); 'random' draws a new one, printed and recorded in the report",
    )
    parser.add_argument(
        "--fuzz-requests",
        type=int,
        metavar="N",
        help="requests the deep level's schema-driven fuzz run may send (default 400); its "
        "examples per operation and time cap grow with it (raise --check-timeout to match)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, metavar="N", help="checks run at once (default 4)"
    )
    parser.add_argument(
        "--check-timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="a check running longer fails (default 120)",
    )


@dataclass(frozen=True, slots=True)
class Settings:
    """The command line and environment, read once."""

    base_url: str
    api_key: str | None
    level: Level
    pins: Mapping[Capability, str]
    only: frozenset[str]
    skip: frozenset[str]
    profile: str
    report_dir: Path | None
    max_requests: int | None
    seed: int
    fuzz_requests: int | None
    concurrency: int
    check_timeout: float


def parse_models(values: Sequence[str]) -> dict[Capability, str]:
    """``CAPABILITY=MODEL`` pins; ``CAPABILITY=none`` (or empty) marks it as not offered."""
    pins: dict[Capability, str] = {}
    for value in values:
        cap, sep, model = value.partition("=")
        cap = cap.strip().lower()
        if not sep or cap not in CAPABILITIES:
            raise UsageError(
                f"--model {value!r}: expected CAPABILITY=MODEL with CAPABILITY one of "
                f"{', '.join(CAPABILITIES)}"
            )
        model = model.strip()
        pins[cap] = "" if model.lower() == "none" else model
    return pins


def _split(values: Sequence[str]) -> frozenset[str]:
    return frozenset(part.strip() for value in values for part in value.split(",") if part.strip())


def resolve(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    """Command line > environment > default, validated; raises :class:`UsageError`."""
    env = os.environ if environ is None else environ
    base_url = args.base_url or env.get("PARITY_BASE_URL") or env.get("OPENAI_BASE_URL")
    if not base_url:
        raise UsageError(
            "no target: pass --base-url URL (e.g. http://127.0.0.1:8000/v1) or set "
            "PARITY_BASE_URL; to try parity locally, start the reference server with `parity serve`"
        )
    if not base_url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url {base_url!r} must start with http:// or https://")
    api_key = args.api_key or env.get("PARITY_API_KEY") or env.get("OPENAI_API_KEY") or None
    if args.max_requests is not None and args.max_requests < 1:
        raise UsageError(f"--max-requests must be at least 1, got {args.max_requests!r}")
    if args.fuzz_requests is not None and args.fuzz_requests < 1:
        raise UsageError(f"--fuzz-requests must be at least 1, got {args.fuzz_requests!r}")
    from conformance.fuzz.seeds import parse_seed

    try:
        seed = parse_seed(args.seed)
    except ValueError as exc:
        raise UsageError(f"--seed: {exc}") from None
    if args.concurrency < 1:
        raise UsageError(f"--concurrency must be at least 1, got {args.concurrency!r}")
    if args.check_timeout <= 0:
        raise UsageError(f"--check-timeout must be positive, got {args.check_timeout!r}")
    return Settings(
        base_url=base_url.rstrip("/"),
        api_key=api_key,
        level=args.level,
        pins=parse_models(args.model),
        only=_split(args.only),
        skip=_split(args.skip),
        profile=args.profile,
        report_dir=Path(args.report_dir) if args.report_dir else None,
        max_requests=args.max_requests,
        seed=seed,
        fuzz_requests=args.fuzz_requests,
        concurrency=args.concurrency,
        check_timeout=args.check_timeout,
    )


def _unknown(kind: str, given: frozenset[str], known: set[str], hint: str) -> None:
    unknown = sorted(given - known)
    if not unknown:
        return
    close = difflib.get_close_matches(unknown[0], sorted(known), n=3)
    maybe = f"; did you mean {', '.join(close)}?" if close else ""
    raise UsageError(f"unknown {kind} {', '.join(map(repr, unknown))}{maybe} ({hint})")


def plan(settings: Settings) -> tuple[list[CheckSpec], Profile]:
    """Load the checks and the profile, and select what runs; raises :class:`UsageError`."""
    from conformance.profiles import ProfileError, load_profile
    from conformance.runner import CheckLoadError, load_checks, select_checks

    try:
        checks = load_checks()
    except CheckLoadError as exc:
        raise UsageError(f"cannot load the checks: {exc}") from None
    areas = {spec.area for spec in checks}
    _unknown("area", settings.only, areas, f"valid areas: {', '.join(sorted(areas))}")
    ids = {spec.id for spec in checks}
    _unknown("check id", settings.skip, ids, "see `parity checks list`")
    try:
        profile = load_profile(settings.profile)
    except (ProfileError, OSError) as exc:
        raise UsageError(f"--profile {settings.profile!r}: {exc}") from None
    specs = select_checks(checks, level=settings.level, only=settings.only)
    if not specs:
        # A run of nothing would "pass" in CI; say so instead.
        where = f" in areas {', '.join(sorted(settings.only))}" if settings.only else ""
        raise UsageError(
            f"no check runs at level {settings.level!r}{where}; try --level deep or other areas"
        )
    return specs, profile


def run(args: argparse.Namespace) -> int:
    from conformance.reporting import default_report_dir, write_reports
    from conformance.runner import TargetUnreachableError, run_checks
    from conformance.target import Target
    from conformance.terminal import Progress, print_summary

    try:
        settings = resolve(args)
        specs, profile = plan(settings)
    except UsageError as exc:
        print(f"parity check: {exc}", file=sys.stderr)
        return 2
    if settings.level == "deep":
        # Generated cases replay from their seed: say which, and how (report.json: target.seed).
        print(
            f"parity check: generated cases use seed {settings.seed} (replay: --seed {settings.seed})",
            file=sys.stderr,
        )
    target = Target(
        base_url=settings.base_url,
        api_key=settings.api_key,
        level=settings.level,
        profile=profile,
        models=settings.pins,
        max_requests=settings.max_requests,
        seed=settings.seed,
        fuzz_requests=settings.fuzz_requests,
    )
    progress = Progress(total=len(specs), target=target)
    try:
        with progress:
            result: RunResult = asyncio.run(
                run_checks(
                    target,
                    specs,
                    skip=settings.skip,
                    concurrency=settings.concurrency,
                    check_timeout=settings.check_timeout,
                    on_result=progress.advance,
                )
            )
    except TargetUnreachableError as exc:
        print(f"parity check: {exc}", file=sys.stderr)
        return 2
    directory = settings.report_dir or default_report_dir()
    try:
        paths = write_reports(result, directory, latest=settings.report_dir is None)
    except OSError as exc:
        print(f"parity check: cannot write reports to {str(directory)!r}: {exc}", file=sys.stderr)
        return 2
    print_summary(result, paths)
    return result.exit_status
