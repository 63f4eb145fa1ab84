"""The Claude models the Anthropic-dialect upstream serves, and their listing.

A request may name a model by its id, by a dated id (``claude-sonnet-4-5-20250929``) or by a
``-latest`` / ``-0`` alias of it, as Anthropic's API accepts; any other name is a 404
``not_found_error``. Each model caps ``max_tokens`` at its maximum output (Anthropic API
reference, "Models overview"). ``GET /v1/models`` answers Anthropic's list shape
(``data``, ``has_more``, ``first_id``, ``last_id``; pages by ``limit``, ``after_id``,
``before_id``), newest first. Creation dates are synthetic and stable.

Must not: do I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reference_server.upstream.anthropic_errors import AnthropicError, invalid

__all__ = ["MODELS", "ClaudeModel", "find_model", "model_info", "models_page"]

_DEFAULT_LIMIT, _MAX_LIMIT = 20, 1000
_SUFFIX = re.compile(r"-(?:\d{8}|latest|0)$")


@dataclass(frozen=True, slots=True)
class ClaudeModel:
    id: str
    display_name: str
    created_at: str  # RFC 3339
    max_output: int


MODELS: tuple[ClaudeModel, ...] = (
    ClaudeModel("claude-opus-4-6", "Claude Opus 4.6", "2026-02-01T00:00:00Z", 128_000),
    ClaudeModel("claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-01-15T00:00:00Z", 128_000),
    ClaudeModel("claude-opus-4-5", "Claude Opus 4.5", "2025-11-01T00:00:00Z", 64_000),
    ClaudeModel("claude-haiku-4-5", "Claude Haiku 4.5", "2025-10-01T00:00:00Z", 64_000),
    ClaudeModel("claude-sonnet-4-5", "Claude Sonnet 4.5", "2025-09-15T00:00:00Z", 64_000),
    ClaudeModel("claude-opus-4-1", "Claude Opus 4.1", "2025-08-01T00:00:00Z", 32_000),
    ClaudeModel("claude-opus-4", "Claude Opus 4", "2025-05-15T00:00:00Z", 32_000),
    ClaudeModel("claude-sonnet-4", "Claude Sonnet 4", "2025-05-14T00:00:00Z", 64_000),
    ClaudeModel("claude-3-7-sonnet", "Claude Sonnet 3.7", "2025-02-19T00:00:00Z", 64_000),
    ClaudeModel("claude-3-5-sonnet", "Claude Sonnet 3.5", "2024-10-22T00:00:00Z", 8_192),
    ClaudeModel("claude-3-5-haiku", "Claude Haiku 3.5", "2024-10-21T00:00:00Z", 8_192),
    ClaudeModel("claude-3-haiku", "Claude Haiku 3", "2024-03-07T00:00:00Z", 4_096),
)
_BY_ID = {m.id: m for m in MODELS}


def find_model(name: str) -> ClaudeModel | None:
    return _BY_ID.get(name) or _BY_ID.get(_SUFFIX.sub("", name))


def model_info(model: ClaudeModel) -> dict[str, Any]:
    return {
        "type": "model",
        "id": model.id,
        "display_name": model.display_name,
        "created_at": model.created_at,
        "max_tokens": model.max_output,
        "lifecycle": "active",
    }


def models_page(query: Mapping[str, str]) -> dict[str, Any]:
    """One page of the listing for the query parameters ``limit``, ``after_id``, ``before_id``."""
    raw_limit = query.get("limit", str(_DEFAULT_LIMIT))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= _MAX_LIMIT:
        raise invalid(f"limit: {raw_limit!r} is invalid; expected an integer in [1, {_MAX_LIMIT}]")
    limit = int(raw_limit)
    ids = [m.id for m in MODELS]
    after, before = query.get("after_id"), query.get("before_id")
    for name, value in (("after_id", after), ("before_id", before)):
        if value is not None and value not in ids:
            raise AnthropicError(404, f"{name}: no model {value!r} in the listing")
    if before is not None:
        end = ids.index(before)
        chosen = MODELS[max(0, end - limit) : end]
        more = end - limit > 0
    else:
        start = ids.index(after) + 1 if after is not None else 0
        chosen = MODELS[start : start + limit]
        more = start + limit < len(MODELS)
    return {
        "data": [model_info(m) for m in chosen],
        "has_more": more,
        "first_id": chosen[0].id if chosen else None,
        "last_id": chosen[-1].id if chosen else None,
    }
