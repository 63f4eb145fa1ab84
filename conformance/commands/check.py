"""``parity check``: run the conformance suite against a target and write the reports.

Owns: the command's arguments (read with the environment into :class:`Settings` by
:mod:`conformance.settings`, which the pytest plugin shares), live progress and the summary in
the terminal, and the exit status: 0 every run check passed, 1 at least one failed, 2 usage
error or target unreachable (one line saying what to fix, never a traceback).

Must not: judge responses or render reports itself (the runner and the writers do), or validate
settings itself (``conformance.settings`` does, for the plugin too).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from conformance.errors import UsageError
from conformance.keyapi import ROLES
from conformance.settings import DEFAULTS, OPTIONS, Settings, parse_models, plan, settings_from
from conformance.vocabulary import CAPABILITIES, LEVELS

if TYPE_CHECKING:
    from conformance.results import RunResult

# UsageError and parse_models are re-exported: callers of this command catch and use them.
__all__ = ["UsageError", "add_arguments", "parse_models", "resolve", "run"]


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
        default=DEFAULTS["level"],
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
        default=DEFAULTS["profile"],
        metavar="NAME|FILE",
        help="what the target promises: built-in 'openai' (default), 'monday' or 'reference' "
        "(parity's reference gateway), or a YAML file",
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
        "--seed", type=int, metavar="N", help="seed of generated cases (deep level), to replay"
    )
    parser.add_argument(
        "--fuzz-requests",
        type=int,
        metavar="N",
        help="requests the deep level's schema-driven fuzz run may send (default 400); its "
        "examples per operation and time cap grow with it (raise --check-timeout to match)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULTS["concurrency"],
        metavar="N",
        help="checks run at once (default 4)",
    )
    promises = parser.add_argument_group(
        "gateway promises",
        "keys for the profile's promise checks (budgets, rate limits, the consume scope); "
        "every key given or minted is redacted from every output",
    )
    promises.add_argument(
        "--admin-key",
        metavar="KEY",
        help="the gateway's admin key: parity mints the keys it needs through the profile's "
        "key_api and revokes them afterwards (default: $PARITY_ADMIN_KEY)",
    )
    promises.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="ROLE=KEY",
        help=f"a key for a role ({', '.join(ROLES)}) when the gateway has no key API; repeatable",
    )
    parser.add_argument(
        "--check-timeout",
        type=float,
        default=DEFAULTS["check_timeout"],
        metavar="SECONDS",
        help="a check running longer fails (default 120)",
    )


def resolve(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    """The parsed command line with the environment, validated; raises :class:`UsageError`."""
    options = {name: value for name, value in vars(args).items() if name in OPTIONS}
    return settings_from(options, environ)


def run(args: argparse.Namespace) -> int:
    from conformance.errors import TargetUnreachableError
    from conformance.reporting import default_report_dir, write_reports
    from conformance.runner import run_checks
    from conformance.terminal import Progress, print_summary

    try:
        settings = resolve(args)
        specs, profile = plan(settings)
    except UsageError as exc:
        print(f"parity check: {exc}", file=sys.stderr)
        return 2
    target = settings.target(profile)
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
