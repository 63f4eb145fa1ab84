"""``parity upstream``: the synthetic provider served standalone as a controllable upstream.

A gateway under test routes to one or more of these (primary, fallback ...). Each serves every
OpenAI endpoint of the reference server's synthetic provider, applies fault plans set through
its ``/_parity/`` control API, and keeps a truth ledger of what it really served, so drills can
judge what a gateway's client saw against what happened upstream.

Must not: import ``conformance`` or ``load``; listen anywhere but where it is told (default
127.0.0.1).
"""

from __future__ import annotations

from reference_server.upstream.command import create_upstream_app, main

__all__ = ["create_upstream_app", "main"]
