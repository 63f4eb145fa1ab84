"""Token counting: the one rule the gateway, its providers and its meter share.

A *token* here is a word or a single punctuation mark with its leading whitespace
(``_TOKEN``), so ``count_tokens("".join(tokens)) == len(tokens)`` holds exactly: usage reported
for a synthetic completion is the number of tokens really emitted, and the gateway counts what a
cut stream delivered by the same rule. Admission estimates a request's prompt with
:func:`chat_prompt_tokens`, :func:`responses_prompt_tokens` and :func:`embedding_tokens` before
any upstream is called (budgets reserve, the tokens-per-minute limit charges, that estimate).

Must not: do I/O, or know about endpoints, providers or the controls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "chat_prompt_tokens",
    "count_tokens",
    "embedding_tokens",
    "input_messages",
    "message_tokens",
    "prompt_extras",
    "responses_prompt_tokens",
    "split_tokens",
]

_TOKEN = re.compile(r"\s*(?:\w+|[^\w\s])")


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def split_tokens(text: str) -> list[str]:
    """The tokens of ``text``; their concatenation is ``text`` minus trailing whitespace."""
    return _TOKEN.findall(text)


def _content_text(content: Any) -> tuple[str, int]:
    """Text of a message ``content`` (string or parts) and the number of image parts."""
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        return "", 0
    texts: list[str] = []
    images = 0
    for part in content:
        if isinstance(part, Mapping):
            if isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif part.get("type") in ("image_url", "input_image", "input_audio", "file"):
                images += 1
    return " ".join(texts), images


def message_tokens(messages: Iterable[Mapping[str, Any]], extra: Sequence[str] = ()) -> int:
    """Prompt tokens: 3 per message + its text (+85 per image part) + 3 to prime the reply.

    The per-message overhead follows OpenAI's published token-counting recipe (cookbook
    "How to count tokens with tiktoken"); the words themselves use this module's tokens.
    """
    total = 3
    for message in messages:
        text, images = _content_text(message.get("content"))
        total += 3 + count_tokens(text) + 85 * images
        name = message.get("name")
        if isinstance(name, str):
            total += 1
        calls = message.get("tool_calls")
        if isinstance(calls, list):
            total += count_tokens(repr(calls))
    for text in extra:
        total += count_tokens(text)
    return total


def prompt_extras(body: Mapping[str, Any]) -> list[str]:
    """Chat request parts besides the messages that count as prompt tokens (tools, schema)."""
    extra: list[str] = []
    if body.get("tools"):
        extra.append(json.dumps(body["tools"]))
    if isinstance(body.get("response_format"), Mapping):
        extra.append(json.dumps(body["response_format"]))
    return extra


def input_messages(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Responses ``input`` (and ``instructions``) as chat-style messages."""
    messages: list[dict[str, Any]] = []
    if isinstance(body.get("instructions"), str):
        messages.append({"role": "developer", "content": body["instructions"]})
    raw = body.get("input")
    if isinstance(raw, str):
        messages.append({"role": "user", "content": raw})
        return messages
    for item in raw or []:
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type", "message")
        if kind == "message" or "role" in item:
            messages.append({"role": item.get("role", "user"), "content": item.get("content")})
        elif kind == "function_call_output":
            output = item.get("output")
            messages.append(
                {
                    "role": "tool",
                    "content": output if isinstance(output, str) else json.dumps(output),
                }
            )
        elif kind == "function_call":
            messages.append({"role": "assistant", "content": None, "tool_calls": [dict(item)]})
    return messages


def chat_prompt_tokens(body: Mapping[str, Any]) -> int:
    """A validated chat completion request's prompt: its messages, tools and schema."""
    return message_tokens(body["messages"], prompt_extras(body))


def responses_prompt_tokens(body: Mapping[str, Any]) -> int:
    """A validated Responses request's prompt: its input, instructions and tools."""
    extra = [json.dumps(body["tools"])] if body.get("tools") else []
    return message_tokens(input_messages(body), extra)


def embedding_tokens(raw: Any) -> int:
    """An embeddings ``input``: a string, an array of token ids, or an array of either."""
    if isinstance(raw, str):
        return count_tokens(raw)
    if all(isinstance(x, int) for x in raw):
        return len(raw)
    return sum(count_tokens(x) if isinstance(x, str) else len(x) for x in raw)
