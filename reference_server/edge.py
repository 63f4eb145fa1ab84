"""The ASGI edge: request ids, the body size limit, and every failure as OpenAI's error object.

A plain ASGI callable (no ``BaseHTTPMiddleware``) around the whole app: it stamps every
response with ``x-request-id``, refuses bodies over ``server.max_body_bytes`` with 413 (by
Content-Length, and while the body streams in), and turns any failure that escapes a route into
OpenAI's error object (API reference, "Error codes"): :class:`GatewayError` with its status and
headers, anything else as a 500 without a traceback.

Must not: hold request logic (``endpoints/``, ``gateway/``).
"""

from __future__ import annotations

import itertools
import os
import time

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_server.endpoints.http import REQUEST_ID_KEY, json_response
from reference_server.errors import GatewayError, render_error

__all__ = ["Edge", "error_response", "http_exception", "new_request_id"]

# Request ids must be unique (the ledger's primary key), not secret (they name no capability).
# They lead with the time in milliseconds, as UUIDv7 does, so that ledger rows are inserted
# at the right edge of the primary-key B-tree: random keys dirtied one index page per row,
# which made SQLite write ~1.4 pages per settled request (the server benchmark in
# tests/benchmarks/, under strace). The rest is a per-process counter from a random start
# (os.urandom, drawn again in every forked child): never repeated in a process, and two workers
# collide only if their 56-bit sequences meet in the same millisecond. No system call per
# request.
_ID_SEQUENCE_BITS = 56
_ID_SEQUENCE_MASK = (1 << _ID_SEQUENCE_BITS) - 1
_MS_MASK = (1 << 40) - 1  # ordering, not uniqueness: wrapping after 34 years is harmless


class _RequestIds:
    def __init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        self.start = int.from_bytes(os.urandom(7))
        self.counter = itertools.count()

    def next(self) -> str:
        sequence = (self.start + next(self.counter)) & _ID_SEQUENCE_MASK
        return f"{time.time_ns() // 1_000_000 & _MS_MASK:010x}{sequence:014x}"


_REQUEST_IDS = _RequestIds()
os.register_at_fork(after_in_child=_REQUEST_IDS.restart)


def new_request_id() -> str:
    """24 hex digits (40 bits of milliseconds, 56 of sequence): ``x-request-id`` is ``req_`` + this."""
    return _REQUEST_IDS.next()


_HTTP_ERRORS = {
    404: ("not_found", "Unknown request URL: {method} {path}. Please check the URL for typos."),
    405: ("method_not_allowed", "Method {method} is not allowed for {path}."),
}


def error_response(exc: BaseException, *, request_id: str = "") -> Response:
    """``exc`` as the JSON error object with its status and headers (``errors.render_error``)."""
    status, body, headers = render_error(exc, request_id=request_id)
    return json_response(body, status, headers)


class Edge:
    """Request ids, the body size limit, and errors as OpenAI error objects."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = new_request_id()
        scope[REQUEST_ID_KEY] = rid
        header = (b"x-request-id", b"req_" + rid.encode())
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared: int | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
                if declared is not None and declared > limit:
                    await self._too_large(scope, receive, send, header, declared)
                    return
        started = False
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge(seen, complete=not message.get("more_body", False))
            return message

        async def stamped_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        # With a Content-Length within the limit the server delivers no more than that many
        # bytes, so only bodies without one (chunked) need counting as they stream in.
        try:
            await self.app(
                scope, receive if declared is not None else limited_receive, stamped_send
            )
        except _BodyTooLarge as exc:
            if not started:
                await self._too_large(
                    scope, receive, send, header, exc.size, drain=not exc.complete
                )
        except Exception as exc:
            if started:
                raise
            if isinstance(exc, HTTPException):  # raised outside a route (routes have a handler)
                exc = GatewayError(exc.status_code, str(exc.detail), headers=exc.headers)
            await error_response(exc, request_id=rid)(scope, receive, stamped_send)

    async def _too_large(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        header: tuple[bytes, bytes],
        size: int,
        *,
        drain: bool = True,
    ) -> None:
        response = error_response(
            GatewayError(
                413,
                f"Request body too large: {size} bytes exceeds the limit of "
                f"{self.max_body_bytes} bytes.",
                code="request_too_large",
                headers={"connection": "close"},
            )
        )
        response.raw_headers.append(header)
        # Read (and drop) the rest of the body first: a client that sends its whole body before
        # reading would otherwise see a reset connection instead of the 413. Bounded.
        drained, cap = 0, max(_DRAIN_CAP, 4 * self.max_body_bytes)
        while drain and drained <= cap:
            message = await receive()
            if message["type"] != "http.request":
                break
            drained += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        await response(scope, receive, send)


_DRAIN_CAP = 256 * 1024 * 1024


class _BodyTooLarge(Exception):
    def __init__(self, size: int, *, complete: bool) -> None:
        super().__init__(size)
        self.size = size
        self.complete = complete  # the last body message was already read


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code, template = _HTTP_ERRORS.get(exc.status_code, (None, str(exc.detail)))
    message = template.format(method=request.method, path=request.url.path)
    return error_response(GatewayError(exc.status_code, message, code=code, headers=exc.headers))
