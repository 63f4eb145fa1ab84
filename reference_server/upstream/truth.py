"""The truth ledger: what the upstream really served, request by request.

A drill judges a gateway by comparing what its client saw with this record: the request id the
upstream saw (the gateway's ``x-request-id``, if it forwards one), the model asked, the tokens
served (prompt, and completion tokens that actually left: a cut stream counts only the delivered
chunks), whether the answer completed, the fault applied, the status sent, the text served and
the timings. An upstream speaking another dialect than OpenAI's also records, in that dialect's
own terms, what it ``received`` and what it ``served`` (see its ``Dialect``); an OpenAI-dialect
entry leaves both null. Bounded: the oldest entries are dropped past ``capacity``.

Must not: do I/O; the injector records, the control API reads.
"""

from __future__ import annotations

import collections
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["TruthEntry", "TruthLedger"]

MAX_TEXT = 8192  # characters of served text kept per entry


@dataclass(frozen=True, slots=True)
class TruthEntry:
    seq: int
    upstream: str
    request_id: str | None
    path: str
    model: str | None
    stream: bool
    status: int
    fault: str | None
    prompt_tokens: int
    completion_tokens: int
    completed: bool
    text: str
    started_at: float
    first_byte_at: float | None
    finished_at: float
    dialect: str = "openai"
    received: dict[str, Any] | None = None
    served: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class TruthLedger:
    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity!r}")
        self._entries: collections.deque[TruthEntry] = collections.deque(maxlen=capacity)
        self._seq = 0
        # Requests being served: a reader waits for zero before trusting the ledger is whole.
        self.in_flight = 0

    def next_seq(self) -> int:
        """The next arrival's sequence number (taken when a request arrives)."""
        self._seq += 1
        return self._seq

    @property
    def last_seq(self) -> int:
        """The latest arrival's number: a mark after which only new requests appear."""
        return self._seq

    def record(self, entry: TruthEntry) -> None:
        self._entries.append(entry)

    def entries(self, since: int = 0) -> list[TruthEntry]:
        """Entries that arrived after ``since``, in arrival order."""
        return sorted((e for e in self._entries if e.seq > since), key=lambda e: e.seq)

    def clear(self) -> None:
        self._entries.clear()
