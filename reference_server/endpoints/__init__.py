"""HTTP endpoints: parse the request, hand it to the gateway, render JSON, bytes or SSE.

Must not: hold business rules (routing, fallback, billing live in ``gateway/``).
"""

from __future__ import annotations

__all__: list[str] = []
