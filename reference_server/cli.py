"""``python -m reference_server serve``: run the reference gateway under uvicorn (httptools).

Prints ``parity reference server: http://HOST:PORT/v1`` and ``demo key: ...`` on start.
With ``--workers N`` uvicorn runs N processes from the import string
``reference_server.app:factory`` (``--factory``); the config path reaches them through
``PARITY_CONFIG``. No access log by default (``--access-log`` turns it on).

Must not: hold application logic.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence

from reference_server.config import Settings, load_settings
from reference_server.controls.config import parse_controls
from reference_server.errors import ConfigError, UsageError
from reference_server.gateway.pricing import require_prices

__all__ = ["DEMO_KEY", "add_arguments", "free_port", "main", "run"]

# The demo key is public by design (documented in the README and printed on start); the
# server itself only ever holds its SHA-256 (configs/default.yaml).
DEMO_KEY = "sk-parity-demo"


def free_port(host: str) -> int:
    """A port the OS reports free on ``host`` now, for ``--port 0`` (``serve`` and ``upstream``).

    uvicorn is given the number rather than port 0 so that the banner can name the port before
    the server binds it (with ``--workers N`` each worker binds the same one).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML config file (default: the embedded configuration)")
    parser.add_argument("--host", help="bind address (default: server.host, 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, help="port (default: server.port, 8000; 0 picks a free one)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes (default 1)"
    )
    parser.add_argument(
        "--access-log", action="store_true", help="log every request (off by default)"
    )
    parser.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )


def _settings(args: argparse.Namespace) -> Settings:
    """The config to serve, checked whole before any worker starts (``UsageError`` or
    ``ConfigError`` otherwise)."""
    if args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers!r}")
    if args.port is not None and not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0 (a free one) to 65535, got {args.port!r}")
    if args.config:
        os.environ["PARITY_CONFIG"] = os.path.abspath(args.config)
    settings = load_settings(os.environ.get("PARITY_CONFIG") or None)
    # The controls section is parsed by each worker as it starts: a mistake there (or a model
    # a metered endpoint cannot price) would otherwise be a traceback per worker instead of
    # one message here.
    if parse_controls(settings.controls, os.environ).enabled:
        require_prices(settings)
    return settings


def run(args: argparse.Namespace) -> int:
    import uvicorn

    try:
        settings = _settings(args)
    except (UsageError, ConfigError) as exc:
        print(f"parity serve: {exc}", file=sys.stderr)
        return 2
    host = args.host or settings.server.host
    port = settings.server.port if args.port is None else args.port
    if port == 0:
        port = free_port(host)
    print(f"parity reference server: http://{host}:{port}/v1", flush=True)
    if any(k.id == "demo" for k in settings.keys):
        print(f"demo key: {DEMO_KEY}", flush=True)
    uvicorn.run(
        "reference_server.app:factory",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        http="httptools",
        loop="auto",
        access_log=args.access_log,
        log_level=args.log_level,
        timeout_graceful_shutdown=5,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference_server")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the reference gateway")
    add_arguments(serve)
    args = parser.parse_args(argv)
    return run(args)
