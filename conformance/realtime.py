"""A scripted Realtime WebSocket session, recorded as an :class:`Exchange` for evidence.

Owns: connecting to ``/realtime?model=...`` (auth by ``Authorization`` header or by the
``openai-insecure-api-key.<key>`` subprotocol, as browsers must), sending a script of client
events, waiting after each for the server event that answers it, and recording every frame.

The record is an ordinary Exchange so reports can show it: ``status`` is 101 for an accepted
upgrade (or the HTTP status of a refused one), ``body`` holds the transcript as JSON lines
(``{"out": text}`` for a client frame, ``{"in": text}`` for a server frame, ``{"closed":
code}``), and ``reads`` hold the same lines with their arrival times. The selected subprotocol
is recorded as the ``sec-websocket-protocol`` response header.

Must not: judge anything (checks do), or wait unboundedly (every wait has a timeout).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from conformance.exchange import Exchange, Read

__all__ = ["Step", "Transcript", "realtime_url", "record_session"]


@dataclass(frozen=True, slots=True)
class Step:
    """Send ``frame`` (a JSON-able event or raw text), then read until an event whose type is in
    ``until`` arrives (or an ``error`` event, or ``timeout`` seconds pass)."""

    frame: Any
    until: tuple[str, ...]
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class Transcript:
    """A recorded session read back from its Exchange."""

    frames: tuple[tuple[str, Any], ...]  # ("in"|"out"|"closed", payload)

    @classmethod
    def of(cls, exchange: Exchange) -> Transcript:
        frames = []
        for line in exchange.body.decode("utf-8", errors="replace").splitlines():
            entry = json.loads(line)
            ((direction, payload),) = entry.items()
            frames.append((direction, payload))
        return cls(tuple(frames))

    def received(self) -> list[Any]:
        """Server frames parsed as JSON (a frame that is not JSON stays a string)."""
        events = []
        for direction, payload in self.frames:
            if direction == "in":
                try:
                    events.append(json.loads(payload))
                except ValueError:
                    events.append(payload)
        return events

    def after(self, sent_type: str) -> list[Any]:
        """Server events received after the first client frame of type ``sent_type``."""
        seen = False
        events = []
        for direction, payload in self.frames:
            if direction == "out" and not seen:
                try:
                    seen = json.loads(payload).get("type") == sent_type
                except (ValueError, AttributeError):
                    seen = payload == sent_type
            elif direction == "in" and seen:
                try:
                    events.append(json.loads(payload))
                except ValueError:
                    events.append(payload)
        return events


def realtime_url(base_url: str, model: str) -> str:
    """``ws(s)://host/v1/realtime?model=...`` for an ``http(s)://host/v1`` base URL."""
    scheme, _, rest = base_url.rstrip("/").partition("://")
    ws = {"http": "ws", "https": "wss"}.get(scheme)
    if ws is None:
        raise ValueError(f"base URL {base_url!r} is not http(s)")
    return f"{ws}://{rest}/realtime?model={quote(model, safe='')}"


async def record_session(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    subprotocols: Sequence[str] = (),
    steps: Sequence[Step] = (),
    first_timeout: float = 10.0,
) -> Exchange:
    """Connect, read the first server event, run ``steps``, close; return the record."""
    start = time.perf_counter()
    lines: list[Read] = []
    sent: list[str] = []

    def note(direction: str, payload: Any) -> None:
        line = json.dumps({direction: payload}) + "\n"
        lines.append(Read(time.perf_counter() - start, line.encode()))

    def record(status: int | None, response_headers: dict[str, str], error: str | None) -> Exchange:
        return Exchange(
            method="GET",
            url=url,
            request_headers={k.lower(): v for k, v in (headers or {}).items()}
            | ({"sec-websocket-protocol": ", ".join(subprotocols)} if subprotocols else {}),
            request_body="\n".join(sent).encode(),
            status=status,
            headers=response_headers,
            body=b"".join(r.data for r in lines),
            reads=tuple(lines),
            headers_at=None if status is None else 0.0,
            finished_at=time.perf_counter() - start,
            error=error,
        )

    try:
        connection = connect(
            url,
            additional_headers=headers or {},
            subprotocols=[Subprotocol(p) for p in subprotocols] or None,
            proxy=None,
            open_timeout=10,
            close_timeout=2,
            max_size=8 * 1024 * 1024,
        )
        async with connection as ws:
            response_headers = {"sec-websocket-protocol": ws.subprotocol or ""}
            error: str | None = None
            try:
                await _read_until(ws, note, ("*",), first_timeout)
                for step in steps:
                    text = step.frame if isinstance(step.frame, str) else json.dumps(step.frame)
                    sent.append(text)
                    note("out", text)
                    await ws.send(text)
                    await _read_until(ws, note, step.until, step.timeout)
            except ConnectionClosed as exc:
                note("closed", exc.rcvd.code if exc.rcvd else None)
                error = f"the server closed the socket: {exc}"
            return record(101, response_headers, error)
    except InvalidStatus as exc:
        return record(exc.response.status_code, dict(exc.response.headers.raw_items()), str(exc))
    except (InvalidHandshake, OSError, TimeoutError) as exc:
        return record(None, {}, f"{type(exc).__name__}: {exc}")


async def _read_until(ws: Any, note: Any, until: tuple[str, ...], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        try:
            frame = await asyncio.wait_for(ws.recv(), left)
        except TimeoutError:
            return
        text = frame if isinstance(frame, str) else frame.decode("utf-8", errors="replace")
        note("in", text)
        try:
            kind = json.loads(text).get("type")
        except (ValueError, AttributeError):
            kind = None
        if "*" in until or kind in until or kind == "error":
            return
