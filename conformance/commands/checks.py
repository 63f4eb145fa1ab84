"""``parity checks list``: the catalog of checks (id, area, level, what it asserts, its source).

Owns: listing the registered checks as a table or JSON, filtered by level or area.

Must not: contact a target.
"""

from __future__ import annotations

import argparse
import json
import sys

from conformance.vocabulary import LEVELS

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="print the catalog of checks")
    listing.add_argument(
        "--format", choices=("table", "json"), default="table", help="table (default) or json"
    )
    listing.add_argument(
        "--level",
        choices=LEVELS,
        default=None,
        help="only checks that run at this level (default: all)",
    )
    listing.add_argument(
        "--only", action="append", default=[], metavar="AREA[,AREA]", help="only these areas"
    )


def run(args: argparse.Namespace) -> int:
    from conformance import selection
    from conformance.errors import CheckLoadError

    try:
        checks = list(selection.load_checks())
    except CheckLoadError as exc:
        print(f"parity checks: cannot load the checks: {exc}", file=sys.stderr)
        return 2
    areas = {part.strip() for value in args.only for part in value.split(",") if part.strip()}
    known = {spec.area for spec in checks}
    if areas - known:
        print(
            f"parity checks: unknown area {', '.join(map(repr, sorted(areas - known)))} "
            f"(valid areas: {', '.join(sorted(known))})",
            file=sys.stderr,
        )
        return 2
    if args.level is not None:
        checks = [spec for spec in checks if spec.runs_at(args.level)]
    if areas:
        checks = [spec for spec in checks if spec.area in areas]
    checks.sort(key=lambda spec: (spec.area, LEVELS.index(spec.level), spec.id))
    if args.format == "json":
        rows = [
            {
                "id": spec.id,
                "area": spec.area,
                "level": spec.level,
                "endpoint": spec.endpoint,
                "capability": spec.capability,
                "asserts": spec.asserts,
                "source": spec.source,
            }
            for spec in checks
        ]
        print(json.dumps(rows, indent=2))
        return 0
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"parity checks ({len(checks)})", title_justify="left", show_lines=False)
    table.add_column("id", no_wrap=True, style="bold")
    table.add_column("area", no_wrap=True)
    table.add_column("level", no_wrap=True)
    table.add_column("asserts", overflow="fold", ratio=3)
    table.add_column("source", overflow="fold", ratio=2)
    for spec in checks:
        table.add_row(
            escape(spec.id),
            escape(spec.area),
            spec.level,
            escape(spec.asserts),
            escape(spec.source),
        )
    # Piped output keeps whole lines rather than folding at 80 columns.
    Console(width=None if sys.stdout.isatty() else 220).print(table)
    return 0
