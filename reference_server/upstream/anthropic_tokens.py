"""Input tokens of a Messages request, unit by unit, in the order prompt caching reads them.

Anthropic's prompt caching (API reference, "Prompt caching") caches the request prefix in the
order ``tools``, ``system``, ``messages``, up to a block carrying ``cache_control``; a
top-level ``cache_control`` marks the last cacheable block. So the prompt is cut here into
units in that order, each with its token count and its marker's TTL.

Counting (synthetic, deterministic, with the tokens of ``providers/text.py``): a text is its
words and punctuation; an image or document block 85 tokens; a tool use its name and input
JSON; a tool its JSON definition; 3 tokens per message and 3 to prime the answer. Reads the
body leniently: it also counts bodies the ledger records before (or without) validation.

Must not: keep state (the cache does) or validate (the request parser does).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reference_server.tokens import count_tokens

__all__ = ["PromptUnit", "input_tokens", "prompt_units", "text_of"]

MEDIA_TOKENS = 85
_MESSAGE_OVERHEAD = 3
_PRIMING = 3


@dataclass(frozen=True, slots=True)
class PromptUnit:
    tokens: int
    key: str  # the unit's canonical JSON: what a cached prefix is made of
    ttl: str | None  # "5m" or "1h" when the unit carries a cache_control marker


def _canonical(value: Any) -> str:
    if isinstance(value, Mapping):
        value = {k: v for k, v in value.items() if k != "cache_control"}
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _ttl(block: Any) -> str | None:
    marker = block.get("cache_control") if isinstance(block, Mapping) else None
    if not isinstance(marker, Mapping):
        return None
    return "1h" if marker.get("ttl") == "1h" else "5m"


def text_of(content: Any) -> str:
    """The text of a content (a string, or the text of its text blocks, joined by newlines)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "\n".join(
        b["text"]
        for b in content
        if isinstance(b, Mapping) and b.get("type") == "text" and isinstance(b.get("text"), str)
    )


def _block_tokens(block: Any) -> int:
    if not isinstance(block, Mapping):
        return 0
    kind = block.get("type")
    if kind == "text":
        return count_tokens(str(block.get("text") or ""))
    if kind in ("image", "document"):
        return MEDIA_TOKENS
    if kind == "tool_use":
        return count_tokens(str(block.get("name") or "")) + count_tokens(
            json.dumps(block.get("input"), default=str)
        )
    if kind == "tool_result":
        content = block.get("content")
        if isinstance(content, list):
            return sum(_block_tokens(b) for b in content)
        return count_tokens(str(content or ""))
    if kind == "thinking":
        return count_tokens(str(block.get("thinking") or ""))
    return count_tokens(_canonical(block))


def prompt_units(body: Mapping[str, Any]) -> list[PromptUnit]:
    units: list[PromptUnit] = []
    tools = body.get("tools")
    for tool in tools if isinstance(tools, list) else ():
        key = _canonical(tool)
        units.append(PromptUnit(count_tokens(key), key, _ttl(tool)))
    system = body.get("system")
    if isinstance(system, str) and system:
        units.append(PromptUnit(count_tokens(system), _canonical(system), None))
    elif isinstance(system, list):
        units.extend(PromptUnit(_block_tokens(b), _canonical(b), _ttl(b)) for b in system)
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else ():
        if not isinstance(message, Mapping):
            continue
        role = str(message.get("role"))
        units.append(PromptUnit(_MESSAGE_OVERHEAD, role, None))
        content = message.get("content")
        if isinstance(content, str):
            units.append(PromptUnit(count_tokens(content), _canonical(content), None))
        elif isinstance(content, list):
            units.extend(PromptUnit(_block_tokens(b), _canonical(b), _ttl(b)) for b in content)
    units.append(PromptUnit(_PRIMING, "", None))
    top = body.get("cache_control")
    if isinstance(top, Mapping):
        # "Top-level cache control applies a marker to the last cacheable block": the last
        # unit that is a block (not the priming or a message's overhead).
        for index in range(len(units) - 2, -1, -1):
            if units[index].key not in ("user", "assistant"):
                last = units[index]
                units[index] = PromptUnit(last.tokens, last.key, _ttl(body))
                break
    return units


def input_tokens(body: Mapping[str, Any]) -> int:
    """All input tokens of ``body`` (before any of them are read from or written to the cache)."""
    return sum(u.tokens for u in prompt_units(body))
