"""``parity drill``: judge a gateway's fallbacks, metering, budgets and rate limits.

Owns: the command's arguments (``--base-url``/``--api-key`` as ``parity check`` reads them; one
``--upstream-control URL`` per upstream the gateway routes to, with ``--upstream-control-key`` or
``PARITY_UPSTREAM_CONTROL_KEY``), connecting to the upstreams and matching their names with the
profile's routes, the drill environment, and the run: drills one at a time, results in the same
reports and exit codes as ``parity check`` (0 passed, 1 a drill failed, 2 usage error or an
upstream/gateway unreachable).

Upstream controls must be loopback URLs unless ``--allow-remote-upstream`` is given: a drill
injects faults and must not be aimed at someone else's server by mistake.

Must not: judge anything itself (the drills and their verdicts do).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from conformance.errors import UsageError
from conformance.settings import api_key_from, base_url_from

if TYPE_CHECKING:
    import httpx

    from conformance.drills.profile import DrillProfile
    from conformance.registry import CheckSpec
    from conformance.results import RunResult

# UsageError is re-exported: callers of this command catch it.
__all__ = ["DrillSettings", "UsageError", "add_arguments", "resolve", "run", "run_drills"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", metavar="URL", help="the gateway's API base URL (…/v1)")
    parser.add_argument("--api-key", metavar="KEY", help="the gateway key for ordinary drills")
    parser.add_argument(
        "--upstream-control",
        action="append",
        default=[],
        metavar="URL",
        help="a `parity upstream` the gateway routes to (its origin); repeat for each",
    )
    parser.add_argument(
        "--upstream-control-key",
        metavar="KEY",
        help="the upstreams' control key (default: $PARITY_UPSTREAM_CONTROL_KEY)",
    )
    parser.add_argument(
        "--profile",
        default="reference",
        metavar="NAME|FILE",
        help="what the gateway is configured to do (default: the shipped 'reference' profile)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="DRILL",
        help="run only these drills (ids or prefixes, e.g. drills.fallback); repeatable",
    )
    parser.add_argument("--report-dir", metavar="DIR", help="where to write the reports")
    parser.add_argument(
        "--allow-remote-upstream",
        action="store_true",
        help="allow upstream control URLs that are not loopback",
    )
    parser.add_argument(
        "--check-timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="a drill running longer fails (default 120)",
    )


@dataclass(frozen=True, slots=True)
class DrillSettings:
    base_url: str
    api_key: str | None
    controls: tuple[str, ...]
    control_key: str
    profile: str
    only: tuple[str, ...]
    report_dir: Path | None
    check_timeout: float


def resolve(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> DrillSettings:
    from conformance.drills.upstreams import is_loopback_url

    env = os.environ if environ is None else environ
    base_url = base_url_from(args.base_url, env)
    if not base_url or not base_url.startswith(("http://", "https://")):
        raise UsageError(
            f"--base-url {base_url!r}: give the gateway's base URL, e.g. http://127.0.0.1:8100/v1"
        )
    if len(args.upstream_control) < 2:
        raise UsageError(
            "give --upstream-control URL for the primary and the fallback upstream "
            "(e.g. --upstream-control http://127.0.0.1:8101 --upstream-control http://127.0.0.1:8102)"
        )
    for url in args.upstream_control:
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--upstream-control {url!r} must start with http:// or https://")
        if not is_loopback_url(url) and not args.allow_remote_upstream:
            raise UsageError(
                f"--upstream-control {url!r} is not a loopback address; drills inject faults, "
                "so pass --allow-remote-upstream if this upstream really is yours"
            )
    key = args.upstream_control_key or env.get("PARITY_UPSTREAM_CONTROL_KEY")
    if not key:
        raise UsageError(
            "no upstream control key: pass --upstream-control-key or set "
            "PARITY_UPSTREAM_CONTROL_KEY (`parity upstream` prints it on start)"
        )
    if args.check_timeout <= 0:
        raise UsageError(f"--check-timeout must be positive, got {args.check_timeout!r}")
    return DrillSettings(
        base_url=base_url.rstrip("/"),
        api_key=api_key_from(args.api_key, env),
        controls=tuple(args.upstream_control),
        control_key=key,
        profile=args.profile,
        only=tuple(o.strip() for value in args.only for o in value.split(",") if o.strip()),
        report_dir=Path(args.report_dir) if args.report_dir else None,
        check_timeout=args.check_timeout,
    )


def select(specs: Sequence[CheckSpec], only: Sequence[str]) -> list[CheckSpec]:
    if not only:
        return list(specs)
    chosen = [s for s in specs if any(s.id == o or s.id.startswith(o + ".") for o in only)]
    if not chosen:
        ids = ", ".join(s.id for s in specs)
        raise UsageError(f"--only {list(only)!r} matches no drill; drills: {ids}")
    return chosen


async def run_drills(
    settings: DrillSettings,
    profile: DrillProfile,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RunResult:
    """Connect to the upstreams, then run the selected drills one at a time."""
    from dataclasses import replace

    from conformance.drills import load_drills
    from conformance.drills.environment import DrillEnv, use
    from conformance.drills.upstreams import UpstreamControl
    from conformance.errors import TargetUnreachableError, UpstreamControlError
    from conformance.profiles import OPENAI
    from conformance.runner import run_checks
    from conformance.target import Target

    specs = select(list(load_drills()), settings.only)
    controls = [UpstreamControl(url, settings.control_key) for url in settings.controls]
    try:
        by_name: dict[str, UpstreamControl] = {}
        for control in controls:
            try:
                name = await control.connect()
            except UpstreamControlError as exc:
                raise TargetUnreachableError(str(exc)) from None
            by_name[name] = control
        for route in (profile.primary, profile.fallback):
            if route.upstream not in by_name:
                raise UsageError(
                    f"the profile routes to upstream {route.upstream!r}, but the upstream "
                    f"controls given are named {sorted(by_name)!r} (start it with "
                    f"`parity upstream --name {route.upstream}`)"
                )
        use(DrillEnv(profile, by_name))
        target = Target(
            base_url=settings.base_url,
            api_key=settings.api_key,
            level="standard",
            profile=replace(OPENAI, name=f"drill:{profile.name}"),
            models={"chat": profile.model},
            # The writers and the terminal redact these like the key.
            secrets=(settings.control_key, *profile.secrets),
        )
        return await run_checks(
            target,
            specs,
            discover=False,
            concurrency=1,  # drills share the upstreams' fault plans and the gateway's breakers
            check_timeout=max(settings.check_timeout, _longest_drill_s(profile)),
            transport=transport,
        )
    finally:
        for control in controls:
            await control.aclose()


def _longest_drill_s(profile: DrillProfile) -> float:
    """The rate drill lasts its whole measured span; no check timeout may cut it short."""
    rate = profile.rate_limit
    return 0.0 if rate is None else rate.periods * rate.period_s + 30.0


def run(args: argparse.Namespace) -> int:
    from conformance.drills.profile import load_drill_profile
    from conformance.errors import TargetUnreachableError
    from conformance.reporting import default_report_dir, write_reports
    from conformance.terminal import print_summary

    try:
        settings = resolve(args)
        profile = load_drill_profile(settings.profile)
        result = asyncio.run(run_drills(settings, profile))
    except UsageError as exc:  # DrillProfileError included
        print(f"parity drill: {exc}", file=sys.stderr)
        return 2
    except TargetUnreachableError as exc:
        print(f"parity drill: {exc}", file=sys.stderr)
        return 2
    directory = settings.report_dir or default_report_dir()
    try:
        paths = write_reports(result, directory, latest=settings.report_dir is None)
    except OSError as exc:
        print(f"parity drill: cannot write reports to {str(directory)!r}: {exc}", file=sys.stderr)
        return 2
    print_summary(result, paths)
    return result.exit_status
