"""The upstreams: the ``Provider`` seam (``base``) and its implementations.

``synthetic`` answers every endpoint in-process, deterministically, with latency and fault
knobs (its text and media come from ``chat_synthesis``, ``responses_synthesis``,
``media_synthesis``, ``media``, ``schema_values`` and ``text``); ``passthrough`` relays to an
OpenAI-compatible upstream over HTTP; ``anthropic`` serves chat completions and responses from
Anthropic's Messages API, translating requests (``anthropic_request``, ``anthropic_content``,
``anthropic_inputs``), answers (``anthropic_response``), streams (``anthropic_stream``) and
errors (``anthropic_errors``).

Must not: import the request flow, the controls or the request rules (``gateway/``,
``controls/``, ``validation/``); know about clients' HTTP requests, keys or billing.
"""

from __future__ import annotations

__all__: list[str] = []
