"""``parity diff A B``: what changed between two runs (two ``report.json``, or a baseline).

Owns: the command's arguments, printing the new failures, the fixed checks and every other
changed outcome, and the exit status: 0 when B fails no check that A did not fail, 1 when it
does, 2 when a file cannot be read (one line saying which and why).

Must not: run checks or judge anything (it compares outcomes already decided).
"""

from __future__ import annotations

import argparse
import sys

from conformance.baseline import Change, compare, read_baseline
from conformance.errors import UsageError

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("before", metavar="A", help="the earlier run: report.json or a baseline")
    parser.add_argument("after", metavar="B", help="the later run: report.json or a baseline")


def _line(change: Change) -> str:
    message = " ".join(change.message.split())
    if len(message) > 160:
        message = message[:159] + "…"
    return f"  {change.id}: {change.before} -> {change.after}" + (f": {message}" if message else "")


def run(args: argparse.Namespace) -> int:
    try:
        before = read_baseline(args.before, flag="A")
        after = read_baseline(args.after, flag="B")
    except UsageError as exc:
        print(f"parity diff: {exc}", file=sys.stderr)
        return 2
    comparison = compare(before, after)
    print(
        f"parity diff: {before.path} ({len(before.outcomes)} checks) -> "
        f"{after.path} ({len(after.outcomes)} checks)"
    )
    for label, changes in (
        ("new failures", comparison.new_failures),
        ("fixed", comparison.fixed),
        ("changed outcomes", comparison.changed),
    ):
        print(f"{label} ({len(changes)}):" if changes else f"{label}: none")
        for change in changes:
            print(_line(change))
    return comparison.exit_status
