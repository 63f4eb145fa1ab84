"""The HTTP client a remote provider calls its upstream with: one pool per provider.

The passthrough (OpenAI's API) and the ``anthropic`` provider differ only in the headers that
authenticate them; the base URL, timeouts and pool bounds come from their settings alike.

Must not: know either upstream's API (the providers build requests and read answers).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import httpx

__all__ = ["PooledUpstream", "UpstreamSettings", "upstream_client"]


class UpstreamSettings(Protocol):
    @property
    def base_url(self) -> str: ...
    @property
    def timeout_s(self) -> float: ...
    @property
    def connect_timeout_s(self) -> float: ...
    @property
    def max_connections(self) -> int: ...


def upstream_client(settings: UpstreamSettings, headers: Mapping[str, str]) -> httpx.AsyncClient:
    """A pooled client for ``settings.base_url``: every connection may stay alive for reuse."""
    return httpx.AsyncClient(
        base_url=settings.base_url.rstrip("/"),
        headers=dict(headers),
        timeout=httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s),
        limits=httpx.Limits(
            max_connections=settings.max_connections,
            max_keepalive_connections=settings.max_connections,
        ),
    )


class PooledUpstream:
    """A provider's lazily opened pool to its upstream, closed by :meth:`aclose`; subclasses
    say how they authenticate (:meth:`auth_headers`)."""

    settings: UpstreamSettings
    _client: httpx.AsyncClient | None = None

    def auth_headers(self) -> dict[str, str]:
        raise NotImplementedError

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = upstream_client(self.settings, self.auth_headers())
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
