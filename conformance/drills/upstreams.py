"""The drills' side of the upstream control API (``/_parity/`` of ``parity upstream``).

Set and clear fault plans, read the truth ledger since a mark, learn an upstream's name. URLs
must be loopback unless the caller allows otherwise: a drill injects faults and must never
aim at someone else's server by mistake.

Must not: judge anything (``verdicts.py``) or import the reference server.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from conformance.drills.verdicts import Served
from conformance.errors import UpstreamControlError

__all__ = ["UpstreamControl", "UpstreamControlError", "is_loopback_url"]


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class UpstreamControl:
    def __init__(
        self, url: str, key: str, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        if self.url.endswith("/_parity"):
            self.url = self.url[: -len("/_parity")]
        self.name = ""
        self._http = httpx.AsyncClient(
            base_url=self.url,
            headers={"authorization": f"Bearer {key}"},
            timeout=10.0,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            response = await self._http.request(method, f"/_parity/{path}", json=body)
        except httpx.HTTPError as exc:
            raise UpstreamControlError(
                f"cannot reach the upstream control API at {self.url}: {type(exc).__name__}: {exc}"
            ) from None
        if response.status_code >= 400:
            raise UpstreamControlError(
                f"{method} {self.url}/_parity/{path} answered {response.status_code}: "
                f"{response.text[:200]}"
            )
        return response.json()

    async def connect(self) -> str:
        """Learn the upstream's name (and prove the key works)."""
        payload = await self._call("GET", "health")
        self.name = str(payload.get("upstream"))
        return self.name

    async def fault(self, kind: str, **options: Any) -> None:
        await self._call("POST", "faults", {"kind": kind, **options})

    async def clear(self) -> None:
        await self._call("DELETE", "faults")

    async def mark(self) -> int:
        """The ledger's current sequence number (entries after it are new)."""
        payload = await self._call("GET", "ledger")
        if isinstance(payload.get("last_seq"), int):
            return int(payload["last_seq"])  # requests still in flight belong before the mark
        return max((int(e["seq"]) for e in payload["data"]), default=0)

    async def since(self, mark: int, *, settle_s: float = 3.0) -> list[Served]:
        """Entries after ``mark``, once the upstream has finished serving (bounded wait: a
        stalled or cut request is recorded when its connection ends, a moment after the
        gateway has moved on)."""
        deadline = time.monotonic() + settle_s
        while True:
            payload = await self._call("GET", f"ledger?since={mark}")
            if not payload.get("in_flight") or time.monotonic() > deadline:
                return [_served(e) for e in payload["data"]]
            await asyncio.sleep(0.02)


def _mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _served(entry: Mapping[str, Any]) -> Served:
    return Served(
        upstream=str(entry.get("upstream")),
        status=int(entry.get("status") or 0),
        completed=bool(entry.get("completed")),
        prompt_tokens=int(entry.get("prompt_tokens") or 0),
        completion_tokens=int(entry.get("completion_tokens") or 0),
        text=str(entry.get("text") or ""),
        fault=entry.get("fault"),
        finished_at=float(entry.get("finished_at") or 0.0),
        dialect=str(entry.get("dialect") or "openai"),
        received=_mapping(entry.get("received")),
        answered=_mapping(entry.get("served")),
    )
