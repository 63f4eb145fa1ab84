"""The upstream's prompt cache: which request prefixes are cached, so usage reports cache tokens.

Anthropic API reference, "Prompt caching": a prefix ending at a ``cache_control`` block is
written to the cache (``cache_creation_input_tokens``) and read by later requests that repeat
it (``cache_read_input_tokens``) until its TTL (5 minutes, or 1 hour) runs out, each read
refreshing it; the longest cached prefix is read and the rest up to the last marker written.
``input_tokens`` counts only the tokens after the last marker; the three add up to all the
input. Prefixes shorter than the minimum cacheable length are not cached (no error).
Deliberate simplification: one minimum (1024 tokens) for every model.

Must not: count tokens (``anthropic_tokens.py`` does) or read the wall clock except through
the clock it is given.
"""

from __future__ import annotations

import collections
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reference_server.upstream.anthropic_tokens import PromptUnit

__all__ = ["MIN_CACHEABLE", "CacheUsage", "PromptCache"]

MIN_CACHEABLE = 1024
_TTL_S = {"5m": 300.0, "1h": 3600.0}


@dataclass(frozen=True, slots=True)
class CacheUsage:
    input_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    ephemeral_5m_input_tokens: int
    ephemeral_1h_input_tokens: int


class PromptCache:
    def __init__(self, capacity: int = 4096, clock: Callable[[], float] = time.monotonic) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity!r}")
        self._capacity = capacity
        self._clock = clock
        self._expiry: collections.OrderedDict[str, tuple[float, str]] = collections.OrderedDict()

    def _alive(self, key: str, now: float) -> bool:
        found = self._expiry.get(key)
        if found is None:
            return False
        if found[0] <= now:
            del self._expiry[key]
            return False
        return True

    def _store(self, key: str, ttl: str, now: float) -> None:
        self._expiry[key] = (now + _TTL_S[ttl], ttl)
        self._expiry.move_to_end(key)
        while len(self._expiry) > self._capacity:
            self._expiry.popitem(last=False)

    def admit(self, model: str, units: Sequence[PromptUnit]) -> CacheUsage:
        """Usage of a request made of ``units``: reads what is cached, writes the rest."""
        now = self._clock()
        digest = hashlib.sha256(model.encode())
        total = 0
        # (prefix key, tokens up to and including the marked unit, its ttl), in prompt order
        marks: list[tuple[str, int, str]] = []
        for unit in units:
            digest.update(unit.key.encode("utf-8", "surrogatepass") + b"\x00")
            total += unit.tokens
            if unit.ttl is not None:
                marks.append((digest.hexdigest(), total, unit.ttl))
        marks = [m for m in marks if m[1] >= MIN_CACHEABLE]
        read = 0
        start = 0
        for index in range(len(marks) - 1, -1, -1):
            key, tokens, ttl = marks[index]
            if self._alive(key, now):
                read, start = tokens, index + 1
                self._store(key, ttl, now)  # a hit refreshes the entry
                break
        written = {"5m": 0, "1h": 0}
        previous = read
        for key, tokens, ttl in marks[start:]:
            written[ttl] += tokens - previous
            previous = tokens
            self._store(key, ttl, now)
        creation = written["5m"] + written["1h"]
        return CacheUsage(
            input_tokens=total - read - creation,
            cache_creation_input_tokens=creation,
            cache_read_input_tokens=read,
            ephemeral_5m_input_tokens=written["5m"],
            ephemeral_1h_input_tokens=written["1h"],
        )
