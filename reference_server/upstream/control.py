"""The upstream's control API under ``/_parity/``, authenticated with its own key.

* ``POST /_parity/faults``: add a fault plan (body: see ``faults.py``); 201 with the plan.
* ``GET /_parity/faults``: the active plans. ``DELETE /_parity/faults``: clear them.
* ``GET /_parity/ledger[?since=SEQ]``: the truth ledger. ``DELETE /_parity/ledger``: clear it.
* ``GET /_parity/health``: name and counts (also authenticated).

The key is compared as a SHA-256 digest in constant time; errors are OpenAI error objects.

Must not: serve the OpenAI API (the wrapped app does) or hold fault rules.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router
from starlette.types import Receive, Scope, Send

from reference_server.upstream.faults import FaultBook, FaultPlanError
from reference_server.upstream.truth import TruthLedger

__all__ = ["control_router"]

_MAX_BODY = 64 * 1024
Handler = Callable[[Request], Awaitable[Response]]


def _error(status: int, message: str, code: str, param: str | None = None) -> JSONResponse:
    kind = "invalid_request_error"
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": param, "code": code}},
        status_code=status,
    )


def control_router(name: str, key_sha256: str, book: FaultBook, ledger: TruthLedger) -> Router:
    def guarded(methods: dict[str, Handler]) -> Handler:
        async def handle(request: Request) -> Response:
            token = request.headers.get("authorization", "")
            scheme, _, secret = token.partition(" ")
            digest = hashlib.sha256(secret.strip().encode()).hexdigest()
            if scheme.lower() != "bearer" or not hmac.compare_digest(digest, key_sha256):
                return _error(401, "Missing or incorrect upstream control key.", "invalid_api_key")
            handler = methods.get(request.method)
            if handler is None:
                return _error(
                    405,
                    f"Method {request.method} is not allowed here; allowed: {sorted(methods)}.",
                    "method_not_allowed",
                )
            return await handler(request)

        return handle

    async def add_fault(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > _MAX_BODY:
            return _error(413, f"The body exceeds {_MAX_BODY} bytes.", "request_too_large")
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "The body is not valid JSON.", "invalid_json")
        try:
            plan = book.add(body)
        except FaultPlanError as exc:
            return _error(400, str(exc), "invalid_fault_plan")
        return JSONResponse(plan.to_json(), status_code=201)

    async def list_faults(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [p.to_json() for p in book.plans()]})

    async def clear_faults(request: Request) -> Response:
        book.clear()
        return JSONResponse({"object": "list", "data": []})

    async def read_ledger(request: Request) -> Response:
        since_raw = request.query_params.get("since", "0")
        if not since_raw.isdigit():
            return _error(
                400, f"'since' must be a sequence number, got {since_raw!r}.", "bad_since", "since"
            )
        entries = ledger.entries(int(since_raw))
        return JSONResponse(
            {
                "object": "list",
                "upstream": name,
                "in_flight": ledger.in_flight,
                "last_seq": ledger.last_seq,
                "data": [e.to_json() for e in entries],
            }
        )

    async def clear_ledger(request: Request) -> Response:
        ledger.clear()
        return JSONResponse({"object": "list", "upstream": name, "data": []})

    async def health(request: Request) -> Response:
        return JSONResponse(
            {"upstream": name, "faults": len(book.plans()), "ledger": len(ledger.entries())}
        )

    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        await _error(404, f"Unknown control path {path!r}.", "not_found")(scope, receive, send)

    allowed = ["GET", "POST", "DELETE", "PUT", "PATCH"]
    return Router(
        routes=[
            Route(
                "/_parity/faults",
                guarded({"POST": add_fault, "GET": list_faults, "DELETE": clear_faults}),
                methods=allowed,
            ),
            Route(
                "/_parity/ledger",
                guarded({"GET": read_ledger, "DELETE": clear_ledger}),
                methods=allowed,
            ),
            Route("/_parity/health", guarded({"GET": health}), methods=allowed),
        ],
        default=not_found,
    )
