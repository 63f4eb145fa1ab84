"""ASGI wrappers that bend one thing about any app's answers: a crafted defect, or a legal
freedom.

The fuzz and property layers are proven on the small servers of ``tests/fuzz/apps.py`` and
``tests/properties/apps.py``; these wrappers turn their correct ``legal`` app into a server
with one more defect the engine must find (:func:`defect`), or into a legal-but-unusual one
every check must still pass (:func:`freedoms`), without touching those apps.

Must not: import ``reference_server``; change anything but what the wrapper's name says.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

__all__ = ["DEFECTS", "Defect", "defect", "freedoms"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

Defect = Literal[
    "models_text_plain",  # GET /v1/models answers Content-Type text/plain
    "models_status_203",  # GET /v1/models answers 203, a status the spec does not document
    "error_detail",  # every 4xx/5xx body is {"detail": ...}, not OpenAI's error object
    "models_created_string",  # GET /v1/models entries carry created as a string
    "chat_refuses_all",  # every chat request, valid or not, gets a 400 error object
    "retrieve_drops",  # GET /v1/models/{model} drops the connection after the headers
]
DEFECTS: tuple[Defect, ...] = (
    "models_text_plain",
    "models_status_203",
    "error_detail",
    "models_created_string",
    "chat_refuses_all",
    "retrieve_drops",
)
_ERROR = {"message": "refused", "type": "invalid_request_error", "param": None, "code": None}


def _headers(message: Message, drop: bytes, add: tuple[bytes, bytes] | None = None) -> Message:
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != drop]
    return {**message, "headers": [*headers, *([add] if add else [])]}


def _rewrites_body(kind: Defect, path: str, status: int) -> bool:
    if kind == "error_detail":
        return status >= 400
    return kind == "models_created_string" and path == "/v1/models"


def defect(app: App, kind: Defect) -> App:
    """``app`` with the one defect ``kind`` names."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path = scope["path"]
        if kind == "chat_refuses_all" and path == "/v1/chat/completions":
            body = json.dumps({"error": _ERROR}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        state: dict[str, Any] = {}

        async def edited(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                if path == "/v1/models" and kind == "models_text_plain":
                    message = _headers(message, b"content-type", (b"content-type", b"text/plain"))
                elif path == "/v1/models" and kind == "models_status_203":
                    message = {**message, "status": 203}
                elif _rewrites_body(kind, path, message["status"]):
                    message = _headers(message, b"content-length")
                elif kind == "retrieve_drops" and path.startswith("/v1/models/"):
                    await send(message)
                    raise ConnectionAbortedError("the connection drops after the headers")
            elif message["type"] == "http.response.body":
                if kind == "error_detail" and state.get("status", 200) >= 400:
                    message = {**message, "body": json.dumps({"detail": "refused"}).encode()}
                elif kind == "models_created_string" and path == "/v1/models":
                    listing = json.loads(message["body"])
                    for entry in listing.get("data", []):
                        entry["created"] = "yesterday"
                    message = {**message, "body": json.dumps(listing).encode()}
            await send(message)

        await app(scope, receive, edited)

    return wrapped


def freedoms(app: App) -> App:
    """``app`` with legal freedoms: vendor fields on every JSON object answer, SSE events
    written without the optional space and preceded by a keep-alive comment, and
    ``Connection: close`` on every answer."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        state: dict[str, Any] = {}

        async def edited(message: Message) -> None:
            if message["type"] == "http.response.start":
                kinds = [v for k, v in message.get("headers", []) if k.lower() == b"content-type"]
                state["kind"] = kinds[0].split(b";")[0].strip() if kinds else b""
                message = _headers(message, b"content-length", (b"connection", b"close"))
            elif message["type"] == "http.response.body" and message.get("body"):
                message = {**message, "body": _bend(state["kind"], message["body"])}
            await send(message)

        await app(scope, receive, edited)

    return wrapped


def _bend(kind: bytes, body: bytes) -> bytes:
    if kind == b"text/event-stream":
        return b": keep-alive\n\n" + body.replace(b"data: ", b"data:")
    if kind != b"application/json":
        return body
    try:
        payload = json.loads(body)
    except ValueError:
        return body
    if isinstance(payload, dict):
        payload["x_vendor"] = {"region": "eu-west", "cached": False}
    return json.dumps(payload).encode()
