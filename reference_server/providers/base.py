"""The Provider seam: what the gateway asks of an upstream, and how an upstream fails.

A provider serves one call for one deployment's upstream model. ``complete`` answers a whole
reply (JSON or bytes); ``stream`` yields parsed stream items (chat chunks, or Responses events)
and must end a chat stream with a usage chunk (``choices: []``) whether or not the client asked
for it: the gateway bills from it and drops it when it was not asked for.

A failure is a :class:`ProviderError`. Raised before the first item it may let the gateway try
the next deployment (``gateway/fallback.py`` says which failures do); raised after, the stream
is over (no splicing).

Must not: know about HTTP requests from clients, keys, or billing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, Protocol

from reference_server.errors import FailureKind, ProviderError

__all__ = [
    "Call",
    "Endpoint",
    "FailureKind",
    "Provider",
    "ProviderError",
    "Reply",
    "Upload",
]

Endpoint = Literal[
    "chat", "embeddings", "images", "speech", "transcriptions", "videos", "responses"
]


@dataclass(frozen=True, slots=True)
class Upload:
    """A multipart file (transcriptions)."""

    filename: str
    content: bytes
    content_type: str


# Per-request records are NamedTuples, not frozen dataclasses: equally immutable (and read-only
# to mypy), but built by one C call where a frozen dataclass pays an object.__setattr__ per
# field; across the dozen records of a request that was a fifth of the reference server's own
# CPU per synthetic completion (tests/benchmarks/bench_server.py).
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


class Call(NamedTuple):
    endpoint: Endpoint
    model: str  # the deployment's upstream model
    body: Mapping[str, Any]  # validated request fields (JSON body or form fields)
    upload: Upload | None = None
    request_id: str = ""
    # The gateway's count of the prompt's tokens (chat), which it made to admit the request:
    # a provider that reports usage itself uses it rather than counting the prompt again.
    prompt_tokens: int | None = None


class Reply(NamedTuple):
    """A whole answer: JSON ``body`` or raw ``content`` bytes of ``media_type``."""

    media_type: str
    body: Mapping[str, Any] | None = None
    content: bytes | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    units: float = 0.0
    headers: Mapping[str, str] = _NO_HEADERS


class Provider(Protocol):
    name: str

    async def complete(self, call: Call) -> Reply: ...

    def stream(self, call: Call) -> AsyncIterator[dict[str, Any]]: ...

    async def aclose(self) -> None: ...
