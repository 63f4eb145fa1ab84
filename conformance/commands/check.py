"""``parity check``: run the conformance suite against a target and write the reports.

Owns: the command's arguments (read with the environment into :class:`Settings` by
:mod:`conformance.settings`, which the pytest plugin shares), live progress and the summary in
the terminal, the baseline it reads and writes (:mod:`conformance.baseline`), and the exit
status: 0 every run check passed (or failed as in the baseline), 1 at least one new failure (or,
with ``--fail-on-skip``, a check it could not judge), 2 usage error or target unreachable (one
line saying what to fix, never a traceback).

Must not: judge responses or render reports itself (the runner and the writers do), or validate
settings itself (``conformance.settings`` does, for the plugin too).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping
from dataclasses import replace
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
        help="what the target promises: built-in 'openai' (default), 'monday', 'catalog' or "
        "'reference' (parity's reference gateway), or a YAML file",
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
        "--allow-fetch",
        action="append",
        default=[],
        metavar="HOST",
        help="also fetch URLs the target hands out (an image's url) from HOST; by default only "
        "the target's own host is fetched from; repeatable",
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
        help="each check's time limit: a check running longer fails, saying so (default 120)",
    )
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=DEFAULTS["request_timeout"],
        metavar="SECONDS",
        help="each request's limit for connecting, sending and between two reads; a request "
        "that runs out gets no answer, and its evidence says so (default 60)",
    )
    gate = parser.add_argument_group("CI gating")
    gate.add_argument(
        "--baseline",
        metavar="FILE",
        help="an earlier run's report.json or a --write-baseline file: failures it already had "
        "(same check id) are reported as accepted and do not fail the run; new ones do",
    )
    gate.add_argument(
        "--write-baseline",
        metavar="FILE",
        help="also write a minimal baseline to commit (check ids, outcomes, parity version, "
        "options)",
    )
    gate.add_argument(
        "--fail-on-skip",
        action="store_true",
        default=False,
        help="exit 1 when a check could not be judged (skipped for any reason but --skip or "
        "--model CAP=none: a spent --max-requests, a capability not found...)",
    )


def resolve(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    """The parsed command line with the environment, validated; raises :class:`UsageError`."""
    options = {name: value for name, value in vars(args).items() if name in OPTIONS}
    return settings_from(options, environ)


def run(args: argparse.Namespace) -> int:
    from conformance.baseline import accept, apply_baseline, read_baseline, write_baseline
    from conformance.errors import TargetUnreachableError
    from conformance.evidence import redactor_for
    from conformance.reporting import default_report_dir, write_reports
    from conformance.runner import run_checks
    from conformance.terminal import Progress, print_summary

    try:
        settings = resolve(args)
        specs, profile = plan(settings)
        # Read before the run: a wrong path must not cost a run.
        baseline = read_baseline(settings.baseline) if settings.baseline else None
        if settings.write_baseline and not settings.write_baseline.parent.is_dir():
            raise UsageError(
                f"--write-baseline {str(settings.write_baseline)!r}: its folder does not exist"
            )
    except UsageError as exc:
        print(f"parity check: {exc}", file=sys.stderr)
        return 2
    if settings.level == "deep":
        # Generated cases replay from their seed: say which, and how (report.json: target.seed).
        print(
            f"parity check: generated cases use seed {settings.seed} (replay: --seed {settings.seed})",
            file=sys.stderr,
        )
    target = settings.target(profile)
    progress = Progress(total=len(specs), target=target, check_timeout=settings.check_timeout)
    try:
        with progress:
            result: RunResult = asyncio.run(
                run_checks(
                    target,
                    specs,
                    skip=settings.skip,
                    concurrency=settings.concurrency,
                    check_timeout=settings.check_timeout,
                    request_timeout=settings.request_timeout,
                    on_result=lambda outcome: progress.advance(accept(outcome, baseline)),
                )
            )
    except TargetUnreachableError as exc:
        # The transport's own words may quote the URL (and any credentials in it).
        print(f"parity check: {redactor_for(target).text(str(exc))}", file=sys.stderr)
        return 2
    result = apply_baseline(replace(result, options=settings.options()), baseline)
    directory = settings.report_dir or default_report_dir()
    try:
        paths = write_reports(result, directory, latest=settings.report_dir is None)
        if settings.write_baseline:
            write_baseline(result, settings.write_baseline)
    except OSError as exc:
        where = exc.filename or str(directory)
        print(f"parity check: cannot write {where!r}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print_summary(result, paths)
    if settings.write_baseline:
        print(f"baseline: {settings.write_baseline} ({len(result.results)} checks)")
    status = result.status(fail_on_skip=settings.fail_on_skip)
    if status and not result.exit_status:
        print(
            f"parity check: exit 1: {sum(result.not_judged.values())} check(s) not judged "
            "(--fail-on-skip)",
            file=sys.stderr,
        )
    return status
