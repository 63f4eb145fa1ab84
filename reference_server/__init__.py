"""parity's reference gateway: an OpenAI-compatible Starlette app with alias routing, metering,
budgets, rate limits and fallback. It proves the suite and is its embedded default target.

Rooms: the root holds the app's frame (``app``: ``create_app``; ``edge``: the ASGI edge;
``cli``; ``config``; ``errors``: the error tree; ``json_codec``; ``tokens``: token counting);
``endpoints/`` parse HTTP and render answers; ``gateway/`` runs the request flow (authenticate
-> resolve alias -> admit -> dispatch with fallback -> settle) and its pure rules;
``controls/`` keeps the promises (keys, rate limits, budgets, metering, ledger, stores);
``validation/`` holds the request rules from the spec; ``providers/`` are the upstreams
(``synthetic``, ``openai`` passthrough); ``upstream/`` is ``parity upstream``.

Must not: import ``conformance`` or ``load`` (they share only the data in ``spec/``).
"""

from __future__ import annotations

__all__: list[str] = []
