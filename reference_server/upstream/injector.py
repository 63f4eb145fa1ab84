"""The fault injector: an ASGI wrapper around the synthetic gateway app that applies fault plans
on the wire and records every ``POST /v1/...`` in the truth ledger.

Faults happen on the real connection, as a gateway would meet them: a reset drops the socket
before any response byte (``SO_LINGER`` 0, so the peer sees a TCP RST); a stall sends nothing and
then drops it; a cut stream closes the connection mid-body (the chunked body never terminates,
no ``[DONE]``). The transport is reached through uvicorn's receive channel; under a server that
does not expose it the fault still ends the response early, as an incomplete one.

Tokens: a completed answer is recorded with the upstream's own usage; a cut stream with the
prompt tokens the synthetic provider counts and the completion tokens of the chunks that left.
An upstream speaking another dialect passes a ``Dialect`` (``dialect.py``): its error bodies,
its broken event and its reading of what left replace the OpenAI ones.

Must not: hold fault rules (``faults.py``) or change the wrapped app's answers when no fault
applies (the bytes pass through, one SSE event per write).
"""

from __future__ import annotations

import json
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_server.tokens import count_tokens, message_tokens, prompt_extras
from reference_server.upstream.dialect import Delivered, Dialect
from reference_server.upstream.faults import Fault, FaultBook
from reference_server.upstream.truth import MAX_TEXT, TruthEntry, TruthLedger

__all__ = ["FaultInjector"]

_MAX_BODY = 32 * 1024 * 1024
_dumps = json.JSONEncoder(separators=(",", ":")).encode


class _Cut(Exception):
    """Raised from ``send`` to stop the wrapped app once a fault ended the response."""


@dataclass(slots=True)
class _Tally:
    """What left the upstream so far."""

    status: int = 0
    sse: bool = False
    events: int = 0
    completion: int = 0
    usage: dict[str, Any] | None = None
    text: list[str] = field(default_factory=list)
    body: list[bytes] = field(default_factory=list)
    first_byte_at: float | None = None
    completed: bool = False
    events_out: list[bytes] = field(default_factory=list)  # kept for a dialect's reading

    def take_event(self, raw: bytes) -> None:
        for line in raw.split(b"\n"):
            if not line.startswith(b"data:"):
                continue
            payload = line[5:].strip()
            if payload == b"[DONE]":
                return
            try:
                item = json.loads(payload)
            except ValueError:
                return
            if not isinstance(item, dict):
                return
            if isinstance(item.get("usage"), dict):
                self.usage = item["usage"]
            for choice in item.get("choices") or ():
                delta = choice.get("delta") or {}
                content = delta.get("content")
                if isinstance(content, str) and content:
                    self.completion += count_tokens(content)
                    if choice.get("index", 0) == 0:
                        self.text.append(content)
                for call in delta.get("tool_calls") or ():
                    function = call.get("function") or {}
                    self.completion += count_tokens(function.get("name") or "") + count_tokens(
                        function.get("arguments") or ""
                    )


def _transport(receive: Receive) -> Any:
    # uvicorn's receive is a bound method of its request cycle, which holds the transport.
    cycle = getattr(receive, "__self__", None)
    return getattr(cycle, "transport", None)


def _drop(receive: Receive, *, reset: bool) -> None:
    transport = _transport(receive)
    if transport is None:
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0: close() sends RST instead of FIN, a real "connection reset by peer".
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


async def _wait(seconds: float, receive: Receive) -> None:
    """Sleep ``seconds``, or less if the client goes away first."""
    with anyio.move_on_after(seconds):
        while (await receive())["type"] != "http.disconnect":
            pass


def _error_body(status: int) -> bytes:
    kind, code = (
        ("requests", "rate_limit_exceeded") if status == 429 else ("server_error", "injected_fault")
    )
    message = f"The parity upstream answered an injected HTTP {status}."
    return _dumps(
        {"error": {"message": message, "type": kind, "param": None, "code": code}}
    ).encode()


class FaultInjector:
    def __init__(
        self,
        app: ASGIApp,
        *,
        name: str,
        book: FaultBook,
        ledger: TruthLedger,
        control: ASGIApp,
        clock: Callable[[], float] = time.time,
        dialect: Dialect | None = None,
    ) -> None:
        self.app = app
        self.name = name
        self.book = book
        self.ledger = ledger
        self.control = control
        self.clock = clock
        self.dialect = dialect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/_parity/"):
            await self.control(scope, receive, send)
            return
        if scope["method"] != "POST" or not path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        await self._serve(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = self.clock()
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before its body arrived
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = bool(message.get("more_body", False)) and size <= _MAX_BODY
        raw = b"".join(chunks)
        body = _json(raw)
        model = body.get("model") if isinstance(body.get("model"), str) else None
        fault = self.book.take(model)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        tally = _Tally()
        # The sequence number is taken on arrival, so the ledger reads in arrival order even
        # when a dropped connection's handler finishes after later requests.
        seq = self.ledger.next_seq()
        self.ledger.in_flight += 1
        try:
            await self._apply(scope, receive, replay, send, fault, tally)
        finally:
            self._record(seq, scope, body, fault, tally, started)
            self.ledger.in_flight -= 1

    async def _apply(  # noqa: PLR0917 - the ASGI triple, its replayed receive, and the fault
        self,
        scope: Scope,
        receive: Receive,
        replay: Receive,
        send: Send,
        fault: Fault | None,
        tally: _Tally,
    ) -> None:
        if fault is not None and fault.kind == "status":
            headers = [(b"content-type", b"application/json")]
            if fault.status == 429:
                headers.append((b"retry-after", str(fault.retry_after_s).encode()))
            tally.status = fault.status
            tally.first_byte_at = self.clock()
            await send({"type": "http.response.start", "status": fault.status, "headers": headers})
            error = self.dialect.error_body if self.dialect is not None else _error_body
            await send({"type": "http.response.body", "body": error(fault.status)})
            return
        if fault is not None and fault.kind == "reset":
            _drop(receive, reset=True)
            await anyio.sleep(0.01)  # let the server see the connection is gone before we return
            return
        if fault is not None and fault.kind in ("stall", "slow_first_byte"):
            await _wait(fault.delay_ms / 1000, receive)
            if fault.kind == "stall":
                _drop(receive, reset=False)
                await anyio.sleep(0.01)
                return
        limit = fault.after_chunks if fault is not None else None
        malformed = fault is not None and fault.kind == "malformed_chunk"
        cut = fault is not None and fault.kind in ("disconnect", "malformed_chunk")
        pending = b""

        async def passing(message: Message) -> None:
            nonlocal pending
            if message["type"] == "http.response.start":
                tally.status = int(message["status"])
                for key, value in message.get("headers", ()):
                    if key.lower() == b"content-type" and value.startswith(b"text/event-stream"):
                        tally.sse = True
                if cut and not tally.sse:
                    _drop(receive, reset=False)  # a non-stream answer cut before its body
                    raise _Cut
                await send(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            data: bytes = message.get("body", b"")
            if tally.first_byte_at is None and data:
                tally.first_byte_at = self.clock()
            if not tally.sse:
                tally.body.append(data)
                if not message.get("more_body", False):
                    tally.completed = tally.status < 400
                await send(message)
                return
            pending += data
            while b"\n\n" in pending:
                event, pending = pending.split(b"\n\n", 1)
                if cut and limit is not None and tally.events >= limit:
                    if malformed:
                        broken = b'data: {"choices": [{"delta": \n\n'
                        if self.dialect is not None:
                            broken = self.dialect.malformed_event
                        await send(_body(broken))
                        await anyio.sleep(0.05)  # let the broken event reach the peer
                    _drop(receive, reset=False)
                    raise _Cut
                tally.events += 1
                if self.dialect is not None:
                    tally.events_out.append(event)
                else:
                    tally.take_event(event)
                await send(_body(event + b"\n\n"))
            if not message.get("more_body", False):
                tally.completed = tally.status < 400
                await send(_body(pending, more=False))

        try:
            await self.app(scope, replay, passing)
        except _Cut:
            return

    def _record(  # noqa: PLR0917 - everything the entry is made of
        self,
        seq: int,
        scope: Scope,
        body: dict[str, Any],
        fault: Fault | None,
        tally: _Tally,
        started: float,
    ) -> None:
        prompt, completion, text = 0, tally.completion, "".join(tally.text)
        received: dict[str, Any] | None = None
        served: dict[str, Any] | None = None
        if self.dialect is not None:
            delivered = Delivered(
                tally.status,
                tally.sse,
                tally.completed,
                b"".join(tally.body),
                tuple(tally.events_out),
            )
            reading = self.dialect.account(body, delivered)
            prompt, completion, text = (
                reading.prompt_tokens,
                reading.completion_tokens,
                reading.text,
            )
            received, served = reading.received, reading.served
        elif tally.status and tally.status < 400:
            prompt = _prompt_tokens(body)
        if self.dialect is None and not tally.sse and tally.completed:
            answer = _json(b"".join(tally.body))
            found = answer.get("usage")
            usage: dict[str, Any] = found if isinstance(found, dict) else {}
            prompt = int(usage.get("prompt_tokens") or usage.get("input_tokens") or prompt)
            completion = int(usage.get("completion_tokens") or usage.get("output_tokens") or 0)
            text = _answer_text(answer)
        elif self.dialect is None and tally.sse and tally.completed and tally.usage is not None:
            prompt = int(tally.usage.get("prompt_tokens") or prompt)
            completion = int(tally.usage.get("completion_tokens") or completion)
        request_id = None
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                request_id = value.decode("latin-1")
        self.ledger.record(
            TruthEntry(
                seq=seq,
                upstream=self.name,
                request_id=request_id,
                path=scope["path"],
                model=body.get("model") if isinstance(body.get("model"), str) else None,
                stream=bool(body.get("stream")),
                status=tally.status,
                fault=None if fault is None else fault.kind,
                prompt_tokens=prompt,
                completion_tokens=completion,
                completed=tally.completed,
                text=text[:MAX_TEXT],
                started_at=started,
                first_byte_at=tally.first_byte_at,
                finished_at=self.clock(),
                dialect="openai" if self.dialect is None else self.dialect.name,
                received=received,
                served=served,
            )
        )


def _body(data: bytes, *, more: bool = True) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": more}


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _prompt_tokens(body: dict[str, Any]) -> int:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return 0
    return message_tokens([m for m in messages if isinstance(m, dict)], prompt_extras(body))


def _answer_text(answer: dict[str, Any]) -> str:
    for choice in answer.get("choices") or ():
        if isinstance(choice, dict) and choice.get("index", 0) == 0:
            content = (choice.get("message") or {}).get("content")
            return content if isinstance(content, str) else ""
    return ""
