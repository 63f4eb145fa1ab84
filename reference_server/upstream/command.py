"""``python -m reference_server upstream`` (``parity upstream``): build and run one upstream.

Prints ``parity upstream NAME: http://HOST:PORT/v1`` and its control key on start (with
``--dialect anthropic``: ``http://HOST:PORT``, the base URL Anthropic's SDK takes). The API key
the upstream accepts comes from ``--api-key``, else ``PARITY_UPSTREAM_API_KEY``, else the public
demo key; the control key from ``--control-key``, else ``PARITY_UPSTREAM_CONTROL_KEY``, else a
fresh random one. Both are held only as SHA-256 digests by the app.

Must not: hold fault or ledger rules; bind a non-loopback address without ``--allow-remote``.
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import os
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from starlette.types import ASGIApp

from reference_server.cli import free_port
from reference_server.config import SyntheticProviderSettings, load_settings
from reference_server.controls.base import StaticControls
from reference_server.errors import ConfigError, UsageError
from reference_server.providers.base import Provider
from reference_server.providers.synthetic import SyntheticProvider
from reference_server.upstream.control import control_router
from reference_server.upstream.faults import FaultBook
from reference_server.upstream.injector import FaultInjector
from reference_server.upstream.truth import TruthLedger

__all__ = ["DIALECTS", "Upstream", "UpstreamSettings", "create_upstream_app", "main"]

_DEMO_KEY = "sk-parity-demo"
UpstreamDialect = Literal["openai", "anthropic"]
DIALECTS: tuple[UpstreamDialect, ...] = get_args(UpstreamDialect)


@dataclass(frozen=True, slots=True)
class UpstreamSettings:
    name: str = "primary"
    api_key: str = _DEMO_KEY
    control_key: str = ""
    ttft_ms: float = 0.0
    itl_ms: float = 0.0
    output_tokens: int = 24
    tokens_per_chunk: int = 1
    dialect: UpstreamDialect = "openai"

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise ConfigError(f"dialect must be one of {list(DIALECTS)}, got {self.dialect!r}")
        if not self.name or not self.name.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(f"name must be a short identifier, got {self.name!r}")
        if not self.api_key or not self.control_key:
            raise ConfigError("api_key and control_key must be non-empty")
        for field in ("ttft_ms", "itl_ms"):
            if getattr(self, field) < 0:
                raise ConfigError(f"{field} must be >= 0, got {getattr(self, field)!r}")
        if self.output_tokens < 1 or self.tokens_per_chunk < 1:
            raise ConfigError(
                f"output_tokens and tokens_per_chunk must be >= 1, got "
                f"{self.output_tokens!r} and {self.tokens_per_chunk!r}"
            )


@dataclass(frozen=True, slots=True)
class Upstream:
    app: ASGIApp
    book: FaultBook
    ledger: TruthLedger


def create_upstream_app(settings: UpstreamSettings) -> Upstream:
    """The synthetic gateway app (static key, nothing metered) wrapped by the fault injector."""
    if settings.dialect == "anthropic":
        return _anthropic_upstream(settings)
    from reference_server.app import create_app

    base = load_settings()
    providers: dict[str, Provider] = {
        name: SyntheticProvider(
            SyntheticProviderSettings(
                name=name,
                ttft_ms=settings.ttft_ms,
                itl_ms=settings.itl_ms,
                output_tokens=settings.output_tokens,
                tokens_per_chunk=settings.tokens_per_chunk,
            )
        )
        for name in base.providers
    }
    digest = hashlib.sha256(settings.api_key.encode()).hexdigest()
    controls = StaticControls([("upstream", settings.name, digest, ["ai:consume"])])
    inner = create_app(base, controls=controls, providers=providers)
    book, ledger = FaultBook(), TruthLedger()
    control_digest = hashlib.sha256(settings.control_key.encode()).hexdigest()
    control = control_router(settings.name, control_digest, book, ledger)
    app = FaultInjector(inner, name=settings.name, book=book, ledger=ledger, control=control)
    return Upstream(app, book, ledger)


def _anthropic_upstream(settings: UpstreamSettings) -> Upstream:
    """The Anthropic Messages API app wrapped by the same injector, control API and ledger."""
    from reference_server.upstream.anthropic_app import AnthropicAppSettings, create_anthropic_app
    from reference_server.upstream.anthropic_ledger import AnthropicDialect

    inner = create_anthropic_app(
        AnthropicAppSettings(
            api_key_sha256=hashlib.sha256(settings.api_key.encode()).hexdigest(),
            ttft_ms=settings.ttft_ms,
            itl_ms=settings.itl_ms,
            output_tokens=settings.output_tokens,
            tokens_per_chunk=settings.tokens_per_chunk,
        )
    )
    book, ledger = FaultBook(), TruthLedger()
    control_digest = hashlib.sha256(settings.control_key.encode()).hexdigest()
    control = control_router(settings.name, control_digest, book, ledger)
    app = FaultInjector(
        inner,
        name=settings.name,
        book=book,
        ledger=ledger,
        control=control,
        dialect=AnthropicDialect(),
    )
    return Upstream(app, book, ledger)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parity upstream",
        description="A controllable synthetic upstream for gateway drills, speaking OpenAI's API "
        "or (--dialect anthropic) Anthropic's Messages API.",
    )
    parser.add_argument(
        "--dialect",
        choices=DIALECTS,
        default="openai",
        help="the API it speaks (default openai; anthropic: POST /v1/messages)",
    )
    parser.add_argument("--name", default="primary", help="name in the ledger (default primary)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8101, help="port (default 8101; 0 picks a free one)"
    )
    parser.add_argument("--api-key", help="key clients must send (env PARITY_UPSTREAM_API_KEY)")
    parser.add_argument(
        "--control-key", help="key of the /_parity/ API (env PARITY_UPSTREAM_CONTROL_KEY)"
    )
    parser.add_argument("--ttft-ms", type=float, default=0.0, help="time to first token")
    parser.add_argument("--itl-ms", type=float, default=0.0, help="time between chunks")
    parser.add_argument("--output-tokens", type=int, default=24, help="tokens per answer")
    parser.add_argument("--tokens-per-chunk", type=int, default=1, help="tokens per chunk")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow binding a non-loopback address"
    )
    return parser


def _settings(args: argparse.Namespace, control_key: str) -> UpstreamSettings:
    """The upstream to run (``UsageError`` or ``ConfigError`` for a command line that cannot)."""
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = args.host == "localhost"
    if not loopback and not args.allow_remote:
        raise UsageError(
            f"--host {args.host!r} is not a loopback address; pass --allow-remote to bind it anyway"
        )
    return UpstreamSettings(
        name=args.name,
        api_key=args.api_key or os.environ.get("PARITY_UPSTREAM_API_KEY") or _DEMO_KEY,
        control_key=control_key,
        ttft_ms=args.ttft_ms,
        itl_ms=args.itl_ms,
        output_tokens=args.output_tokens,
        tokens_per_chunk=args.tokens_per_chunk,
        dialect=args.dialect,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    given = args.control_key or os.environ.get("PARITY_UPSTREAM_CONTROL_KEY")
    control_key = given or "sk-parity-control-" + secrets.token_urlsafe(18)
    try:
        settings = _settings(args, control_key)
    except (UsageError, ConfigError) as exc:
        print(f"parity upstream: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    port = free_port(args.host) if args.port == 0 else args.port
    upstream = create_upstream_app(settings)
    # Anthropic's SDK takes the origin as its base URL and adds /v1/messages itself.
    suffix = "" if settings.dialect == "anthropic" else "/v1"
    print(f"parity upstream {settings.name}: http://{args.host}:{port}{suffix}", flush=True)
    print(f"control: http://{args.host}:{port}/_parity/", flush=True)
    # A generated key is printed once at start (the operator needs it for drills); a key the
    # operator chose is never echoed into logs.
    shown = "(as given by --control-key / PARITY_UPSTREAM_CONTROL_KEY)" if given else control_key
    print(f"control key: {shown}", flush=True)
    uvicorn.run(
        upstream.app,
        host=args.host,
        port=port,
        http="httptools",
        log_level="critical",
        access_log=False,
    )
    return 0
