"""Deterministic synthetic text: prose tokens, seeds and logprobs for the synthetic answers.

Tokens follow ``reference_server.tokens`` (a word or a punctuation mark with its leading
whitespace), so the usage a synthetic answer reports is the number of tokens it emitted.

Must not: do I/O, sleep, or depend on anything but its arguments (same input -> same output).
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from functools import lru_cache
from typing import TypedDict

__all__ = [
    "TokenLogprob",
    "logprobs_for",
    "seed_of",
    "synthetic_tokens",
]

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
