"""Token usage: what an exchange reports in ``usage``, and the run's total.

Owns: reading ``usage`` from a JSON body or the last usage chunk of an SSE stream (Chat
Completions and Embeddings' ``CompletionUsage``, Responses' ``ResponseUsage``), and
:class:`TokenCount`, the sum a run reports (a paid target bills for it).

Must not: judge usage (the checks do: ``streams.usage_problems``), or perform I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from conformance.exchange import Exchange

__all__ = ["TokenCount", "usage_of"]


@dataclass(frozen=True, slots=True)
class TokenCount:
    """Tokens the target reported in ``usage`` over a run (what a paid target bills)."""

    prompt: int = 0
    completion: int = 0

    @property
    def total(self) -> int:
        return self.prompt + self.completion

    def __add__(self, other: TokenCount) -> TokenCount:
        return TokenCount(self.prompt + other.prompt, self.completion + other.completion)


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _usage_in(obj: object) -> TokenCount | None:
    """Usage of one JSON object: chat/embeddings ``usage`` or a Responses ``response.usage``."""
    if not isinstance(obj, dict):
        return None
    usage = obj.get("usage")
    if not isinstance(usage, dict):
        response = obj.get("response")
        usage = response.get("usage") if isinstance(response, dict) else None
    if not isinstance(usage, dict):
        return None
    # Chat Completions and Embeddings: prompt_tokens / completion_tokens (CompletionUsage);
    # Responses: input_tokens / output_tokens (ResponseUsage).
    prompt = _int(usage.get("prompt_tokens")) or _int(usage.get("input_tokens"))
    completion = _int(usage.get("completion_tokens")) or _int(usage.get("output_tokens"))
    if not prompt and not completion:
        prompt = _int(usage.get("total_tokens"))
    return TokenCount(prompt, completion)


def usage_of(exchange: Exchange) -> TokenCount:
    """The usage an exchange reports: a JSON body's, or the last one found in an SSE stream."""
    if exchange.status is None or not exchange.body:
        return TokenCount()
    if exchange.content_type == "text/event-stream":
        found = TokenCount()
        for line in exchange.body.splitlines():
            if not line.startswith(b"data:"):
                continue
            try:
                usage = _usage_in(json.loads(line[5:]))
            except ValueError:
                continue
            if usage is not None:
                found = usage
        return found
    if "json" not in exchange.content_type:
        return TokenCount()
    try:
        usage = _usage_in(json.loads(exchange.body))
    except ValueError:
        return TokenCount()
    return usage or TokenCount()
