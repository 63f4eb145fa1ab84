"""Request and response plumbing shared by the endpoint modules.

Must not: decide anything about models, keys or billing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from reference_server.errors import invalid_request
from reference_server.gateway import Gateway

__all__ = [
    "REQUEST_ID_KEY",
    "gateway_of",
    "json_response",
    "read_json",
    "request_id",
    "sse_headers",
]

REQUEST_ID_KEY = "parity.request_id"
# No circular-reference bookkeeping: bodies are trees built per request (json.loads output and
# fresh dicts), and the check costs ~15% of encoding a chat completion.
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode


def gateway_of(connection: HTTPConnection) -> Gateway:
    gateway: Gateway = connection.app.state.gateway
    return gateway


def request_id(connection: HTTPConnection) -> str:
    """The hex part of this request's id (``x-request-id`` is ``req_`` + this)."""
    return str(connection.scope.get(REQUEST_ID_KEY, ""))


async def read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        raise invalid_request(
            "We could not parse the JSON body of your request: the body is empty. "
            "(HINT: send a JSON object with Content-Type: application/json.)",
            None,
            "invalid_json",
        )
    try:
        body = json.loads(raw)
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


def json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        _dumps(payload).encode(), status, headers=dict(headers or {}), media_type="application/json"
    )


def sse_headers(*parts: Mapping[str, str]) -> dict[str, str]:
    # No proxy buffering and no caching of the event stream (conformance-anchors A5).
    merged: dict[str, str] = {"cache-control": "no-cache", "x-accel-buffering": "no"}
    for part in parts:
        merged.update(part)
    return merged
