"""The seam between the fault injector and the API dialect an upstream speaks.

The injector applies faults on the wire the same way for every dialect; what differs is how a
dialect writes an error body, what a broken event looks like in its streams, and how what left
the upstream is read back into the truth ledger. An upstream speaking OpenAI's API needs no
dialect object (the injector's own reading applies); one speaking another API passes one.

Must not: do I/O; a dialect only formats and reads bytes the injector hands it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Accounting", "Delivered", "Dialect"]


@dataclass(frozen=True, slots=True)
class Delivered:
    """What left the upstream for one request, as the injector saw it on the wire."""

    status: int  # 0 when the connection dropped before a status line
    sse: bool
    completed: bool  # the body ended normally (a cut stream is not completed)
    body: bytes  # a non-stream answer's body (empty for a stream)
    events: tuple[bytes, ...]  # each SSE event that left, without its blank-line terminator


@dataclass(frozen=True, slots=True)
class Accounting:
    """The ledger's reading of one exchange, in the dialect's own terms."""

    prompt_tokens: int
    completion_tokens: int
    text: str
    received: dict[str, Any] | None  # what the upstream was asked
    served: dict[str, Any] | None  # what it answered (a cut stream: only what left)


class Dialect(Protocol):
    name: str
    malformed_event: bytes  # a ``malformed_chunk`` fault sends this, then drops the connection

    def error_body(self, status: int) -> bytes:
        """The body of an injected ``status`` fault, in the dialect's error shape."""
        ...

    def account(self, request: Mapping[str, Any], delivered: Delivered) -> Accounting:
        """The ledger's reading of ``request`` (the parsed JSON body) and what left for it."""
        ...
