"""parity's reference gateway: an OpenAI-compatible Starlette app with alias routing, metering,
budgets, rate limits and fallback. It proves the suite and is its embedded default target.

Layout: ``config`` (YAML -> frozen settings, validated by ``spec/gateway-config.schema.json``),
``app`` (``create_app``: routes, lifespan, the ASGI edge), ``endpoints/`` (HTTP only),
``gateway`` (authenticate -> resolve -> admit -> dispatch with fallback -> settle), ``relay``
(SSE streams and their billing), ``catalog`` and ``circuit`` (pure rules), ``validation``
(request rules), ``providers/`` (the ``Provider`` seam, ``synthetic`` and ``openai``), and the
controls behind ``controls.Controls`` (keys, metering, budgets, rate limits, ledger, admin).

Must not: import ``conformance`` or ``load`` (they share only the data in ``spec/``).
"""

from __future__ import annotations

__all__: list[str] = []
