"""What one request to the target looked like on the wire: the evidence behind every verdict.

An :class:`Exchange` is an immutable record made by the recording client: the request as sent,
the status and headers, the (content-decoded) body bytes, and every read with its arrival time,
so stream checks can reason about timing and framing without another request.

Must not: perform I/O, or redact (the writers redact when they render evidence).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Exchange", "Read"]


@dataclass(frozen=True, slots=True)
class Read:
    """One chunk of body bytes as the client received it, ``at`` seconds after the send."""

    at: float
    data: bytes


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its response (or its transport error).

    Header names are lowercase. ``body`` is the decoded body (after any Content-Encoding);
    ``reads`` hold the same bytes split as they arrived. Times are seconds after the request
    was sent (the last attempt, when ``retried``); ``headers_at`` is None when no response
    arrived, and ``error`` then says why (a timeout says after how long and which limit).
    """

    method: str
    url: str
    request_headers: Mapping[str, str]
    request_body: bytes
    status: int | None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    reads: tuple[Read, ...] = ()
    headers_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    # The transport error of a first attempt that got no response byte, when the request was
    # sent again on a fresh connection (this exchange is the second attempt).
    retried: str | None = None

    @property
    def content_type(self) -> str:
        """The media type without parameters, lowercase (``""`` when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; raises ``ValueError`` with an excerpt when it is not."""
        try:
            return json.loads(self.body)
        except ValueError as exc:
            excerpt = self.body[:200].decode("utf-8", errors="replace")
            raise ValueError(f"body is not JSON ({exc}): {excerpt!r}") from None

    def request_json(self) -> Any:
        return json.loads(self.request_body) if self.request_body else None
