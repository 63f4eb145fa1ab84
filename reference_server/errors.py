"""The gateway's error vocabulary: one exception type that always leaves as OpenAI's error object.

Every failure the server answers is ``{"error": {"message", "type", "param", "code"}}`` (OpenAI
API reference, "Error codes"; spec component ``ErrorResponse``) with the right HTTP status.
Validation problems are 400 ``invalid_request_error`` (never FastAPI-style 422).

Must not: know about Starlette requests or providers (``app.py`` renders these).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import NamedTuple, TypedDict

__all__ = [
    "ErrorBody",
    "ErrorObject",
    "GatewayError",
    "Rendered",
    "error_body",
    "error_bytes",
    "invalid_request",
    "model_not_found",
    "render_error",
]


class ErrorObject(TypedDict):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorBody(TypedDict):
    error: ErrorObject


class GatewayError(Exception):
    """A refusal or failure with an HTTP status, rendered as the OpenAI error object."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = dict(headers or {})

    def body(self) -> ErrorBody:
        return error_body(self.message, self.type, self.param, self.code)


class Rendered(NamedTuple):
    """An exception as the client sees it: HTTP status, OpenAI error object, headers."""

    status: int
    body: ErrorBody
    headers: Mapping[str, str]


def render_error(exc: BaseException) -> Rendered:
    """The OpenAI error object for ``exc``: a :class:`GatewayError` as itself, any other
    exception as a bare 500 ``server_error`` (no traceback, no detail of the failure)."""
    if isinstance(exc, GatewayError):
        return Rendered(exc.status, exc.body(), exc.headers)
    return Rendered(
        500,
        error_body(
            "The server had an error while processing your request.", "server_error", None, None
        ),
        {},
    )


def error_body(message: str, type: str, param: str | None, code: str | None) -> ErrorBody:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def error_bytes(error: GatewayError) -> bytes:
    return json.dumps(error.body(), separators=(",", ":")).encode()


def invalid_request(message: str, param: str | None, code: str | None = None) -> GatewayError:
    """400 for malformed, missing, wrong-typed or out-of-range input."""
    return GatewayError(400, message, param=param, code=code)


def model_not_found(model: str) -> GatewayError:
    # OpenAI answers an unknown model with 404 and code ``model_not_found``.
    return GatewayError(
        404,
        f"The model {model!r} does not exist or you do not have access to it.",
        param="model",
        code="model_not_found",
    )
