"""The ``parity`` command: one entry point, one module per subcommand.

Each subcommand module exposes ``add_arguments(parser)`` and ``run(args) -> int``; this module
only dispatches. ``serve`` and ``upstream`` run the reference server in its own process
(``python -m reference_server``): the suite never imports the server.

Exit status, for every subcommand: 0 success, 1 a check or SLO failed, 2 usage error or target
unreachable (with a one-line explanation of what to fix), 3 the load harness was the bottleneck.

Must not: import heavy modules (locust, schemathesis) before a subcommand needs them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]

# name -> (module, one-line help). Modules are imported only to build their parser.
_COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("conformance.commands.check", "run the conformance suite against a target"),
    "checks": ("conformance.commands.checks", "list the catalog of checks"),
    "diff": ("conformance.commands.diff", "what changed between two runs' reports"),
    "load": ("load.command", "run a locust load scenario against a target"),
    "drill": ("conformance.commands.drill", "judge a gateway's fallbacks, metering and limits"),
    "demo": ("conformance.commands.demo", "suite + short load run against the embedded server"),
}
# Run by the reference server's own command line, in its own process.
_SERVER_COMMANDS: dict[str, str] = {
    "serve": "run the reference gateway (python -m reference_server serve --help)",
    "upstream": "run a controllable synthetic upstream (python -m reference_server upstream --help)",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parity",
        description="Conformance suite and load harness for OpenAI-compatible API gateways.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in _COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(command)
        command.set_defaults(_module=module)
    for name, help_text in _SERVER_COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in _SERVER_COMMANDS:
        # Replace this process so signals (Ctrl-C, SIGTERM) reach the server directly.
        argv_server = [sys.executable, "-m", "reference_server", *args_list]
        os.execv(sys.executable, argv_server)  # noqa: S606 - fixed interpreter, no shell
    args = _parser().parse_args(args_list)
    run = importlib.import_module(args._module).run
    try:
        return int(run(args))
    except KeyboardInterrupt:
        print("parity: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
