"""Anthropic's error object and the status each error type travels with.

Anthropic API reference, "Errors": every error is ``{"type": "error", "error": {"type",
"message"}, "request_id"}``; 400 ``invalid_request_error`` (also used for other 4XX statuses),
401 ``authentication_error``, 403 ``permission_error``, 404 ``not_found_error``, 413
``request_too_large``, 429 ``rate_limit_error``, 500 ``api_error``, 529 ``overloaded_error``.
Other 5XX statuses carry ``api_error`` here.

Must not: decide when an error happens (the app and the fault injector do).
"""

from __future__ import annotations

from typing import Any

__all__ = ["AnthropicError", "error_object", "error_type", "invalid"]

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error_type(status: int) -> str:
    """The ``error.type`` Anthropic sends with ``status``."""
    found = _TYPES.get(status)
    if found is not None:
        return found
    return "api_error" if status >= 500 else "invalid_request_error"


def error_object(status: int, message: str, request_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "error",
        "error": {"type": error_type(status), "message": message},
    }
    if request_id is not None:
        body["request_id"] = request_id
    return body


class AnthropicError(Exception):
    """A request the upstream refuses: the status and the message its error object carries."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def invalid(message: str) -> AnthropicError:
    return AnthropicError(400, message)
