"""Request and response plumbing shared by the endpoint modules.

Must not: decide anything about models, keys or billing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import Response

from reference_server import json_codec
from reference_server.errors import invalid_request
from reference_server.gateway.flow import Gateway

__all__ = [
    "REQUEST_ID_KEY",
    "JSONBytesResponse",
    "gateway_of",
    "json_response",
    "read_body",
    "read_json",
    "request_id",
]

REQUEST_ID_KEY = "parity.request_id"


def gateway_of(connection: HTTPConnection) -> Gateway:
    gateway: Gateway = connection.app.state.gateway
    return gateway


def request_id(connection: HTTPConnection) -> str:
    """The hex part of this request's id (``x-request-id`` is ``req_`` + this)."""
    return str(connection.scope.get(REQUEST_ID_KEY, ""))


async def read_body(request: Request) -> bytes:
    """The whole request body, as ``Request.body()`` returns it (and caches it for later reads).

    Read from the ASGI messages directly: a JSON body nearly always arrives in one message, and
    Starlette's ``body()`` gathers even that one through an async generator, a measurable part
    of a synthetic completion's cost (tests/benchmarks/bench_server.py).
    """
    chunks: list[bytes] = []
    while True:
        message = await request.receive()
        if message["type"] != "http.request":  # http.disconnect: the client went away
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    raw = b"".join(chunks)
    request._body = raw  # what Request.body() would cache, so a later read sees the same bytes
    return raw


async def read_json(request: Request) -> dict[str, Any]:
    raw = await read_body(request)
    if not raw.strip():
        raise invalid_request(
            "We could not parse the JSON body of your request: the body is empty. "
            "(HINT: send a JSON object with Content-Type: application/json.)",
            None,
            "invalid_json",
        )
    try:
        body = json_codec.decode(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise invalid_request(
            f"We could not parse the JSON body of your request ({exc}). "
            "(HINT: send a JSON object with Content-Type: application/json.)",
            None,
            "invalid_json",
        ) from None
    if not isinstance(body, dict):
        raise invalid_request(
            f"The JSON body must be an object, got {type(body).__name__} ({raw[:60]!r}).",
            None,
            "invalid_json",
        )
    return body


class JSONBytesResponse(Response):
    """An encoded JSON body: the headers Starlette's ``Response`` would send, built directly."""

    media_type = "application/json"

    def __init__(
        self, body: bytes, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status_code = status
        self.background = None
        self.body = body
        raw = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
        ]
        if headers:
            raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self.raw_headers = raw


def json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return JSONBytesResponse(json_codec.encode(payload), status, headers)
