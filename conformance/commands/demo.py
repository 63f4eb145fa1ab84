"""``parity demo``: not built yet (see the open issues)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Nothing to parse yet."""


def run(args: argparse.Namespace) -> int:
    print("parity demo: not available yet", file=sys.stderr)
    return 2
