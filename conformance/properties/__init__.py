"""Hypothesis properties that hold for ANY correct OpenAI-compatible target (area
``properties``, level ``deep``).

``strategies`` draws requests (``chat_requests()``, ``embedding_inputs()``, ``tool_schemas()``,
``invalid_requests()``); ``harness`` runs a property from an async check (seeded, bounded, no
shrinking); ``chat``, ``embeddings`` and ``errors`` register the checks; ``answers`` reads a
target's answers. Settings profiles live in :mod:`conformance.hypothesis_profiles`.

Must not: import ``reference_server``, or assert exact model text.
"""

from __future__ import annotations

__all__: list[str] = []
