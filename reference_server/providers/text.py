"""Deterministic synthetic text and the token arithmetic the whole server shares.

A *token* here is a word or a single punctuation mark with its leading whitespace
(``_TOKEN``), so ``count_tokens("".join(tokens)) == len(tokens)`` holds exactly: usage reported
for a synthetic completion is the number of tokens really emitted, and the gateway can count
what a cut stream delivered with the same rule.

Must not: do I/O, sleep, or depend on anything but its arguments (same input -> same output).
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, TypedDict

__all__ = [
    "TokenLogprob",
    "count_tokens",
    "logprobs_for",
    "message_tokens",
    "seed_of",
    "split_tokens",
    "synthetic_tokens",
]

_TOKEN = re.compile(r"\s*(?:\w+|[^\w\s])")

_WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
    "parity",
    "gateway",
    "answers",
    "every",
    "request",
    "with",
    "deterministic",
    "synthetic",
    "text",
    "so",
    "tests",
    "can",
    "compare",
    "streams",
    "and",
    "bodies",
    "exactly",
    "while",
    "latency",
    "knobs",
    "shape",
    "time",
    "to",
    "first",
    "token",
    "and",
    "inter",
    "token",
    "gaps",
    "for",
    "load",
    "runs",
    "model",
    "stream",
    "chunk",
    "usage",
    "budget",
    "ledger",
    "credit",
    "route",
    "alias",
    "fallback",
    "circuit",
    "health",
    "signal",
    "river",
    "mountain",
    "cloud",
    "lantern",
    "harbor",
    "meadow",
    "copper",
    "violet",
    "amber",
    "signal",
    "north",
    "quiet",
]
_CAPITALS = [w.capitalize() for w in _WORDS]


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def split_tokens(text: str) -> list[str]:
    """The tokens of ``text``; their concatenation is ``text`` minus trailing whitespace."""
    return _TOKEN.findall(text)


def seed_of(*parts: object) -> int:
    """A stable 32-bit seed of the request parts (``repr`` is stable for JSON-like values)."""
    return zlib.crc32(repr(parts).encode("utf-8", "surrogatepass"))


def synthetic_tokens(seed: int, count: int) -> list[str]:
    """``count`` tokens of deterministic prose: words, with a full stop every 8-15 words."""
    return list(_synthetic_tokens(seed, count))


@lru_cache(maxsize=4096)
def _synthetic_tokens(seed: int, count: int) -> tuple[str, ...]:
    # A small linear congruential generator (glibc's constants) keeps this off the profile: it
    # runs on every synthetic completion; same input, same text, so it is memoised too.
    words, capitals = _WORDS, _CAPITALS
    n = len(words)
    state = (seed * 2654435761 + 1) & 0x7FFFFFFF
    tokens: list[str] = []
    append = tokens.append
    since_stop = 0
    next_stop = 8 + (seed & 7)
    start = True
    while len(tokens) < count:
        if since_stop >= next_stop:
            append(".")
            since_stop = 0
            next_stop = 8 + ((state >> 20) & 7)
            start = True
            continue
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        index = (state >> 16) % n
        if start:
            append(capitals[index] if not tokens else " " + capitals[index])
            start = False
        else:
            append(" " + words[index])
        since_stop += 1
    return tuple(tokens)


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


class TopLogprob(TypedDict):
    token: str
    logprob: float
    bytes: list[int]


class TokenLogprob(TypedDict):
    token: str
    logprob: float
    bytes: list[int]
    top_logprobs: list[TopLogprob]


def logprobs_for(tokens: Sequence[str], seed: int, top: int) -> list[TokenLogprob]:
    """Per-token logprobs (chat ``choices[].logprobs.content``); the chosen token ranks first."""
    rng = random.Random(seed ^ 0x5EED)
    out: list[TokenLogprob] = []
    for token in tokens:
        chosen = -round(rng.random() * 0.5, 6)
        alternatives: list[TopLogprob] = [
            {"token": token, "logprob": chosen, "bytes": list(token.encode())}
        ]
        for rank in range(1, top):
            alt = " " + _WORDS[rng.randrange(len(_WORDS))]
            logprob = round(chosen - rank - rng.random(), 6)
            alternatives.append({"token": alt, "logprob": logprob, "bytes": list(alt.encode())})
        out.append(
            {
                "token": token,
                "logprob": chosen,
                "bytes": list(token.encode()),
                "top_logprobs": alternatives[:top],
            }
        )
    return out
