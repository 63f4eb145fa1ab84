"""Anthropic's errors as the gateway's :class:`ProviderError`: which status, type and code.

Anthropic API reference, "Errors": an error answer is ``{"type": "error", "error": {"type",
"message"}}`` with 400 ``invalid_request_error``, 401 ``authentication_error``, 403
``permission_error``, 404 ``not_found_error``, 413 ``request_too_large``, 429
``rate_limit_error``, 500 ``api_error`` or 529 ``overloaded_error``; the same object may arrive
as an ``error`` event inside a stream. What the client hears follows OpenAI's "Error codes":

* 400 and 413 are the request's own fault: the same status, ``invalid_request_error``, with
  Anthropic's message (its field paths are Anthropic's);
* 401, 403 and 404 refuse the *gateway's* key, or the model its configuration names, not the
  client: a 502 ``upstream_error``, which ``gateway/fallback.py`` retries on the next deployment;
* 429 stays a 429 (``rate_limit_exceeded``, ``Retry-After`` kept); 529 ``overloaded_error`` is a
  503 (OpenAI's "The engine is currently overloaded"); other 5xx keep their status. All of them
  move on to the next deployment before the first byte.

Must not: do I/O, or decide about fallback (``gateway/fallback.py`` does, by status).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reference_server.errors import ProviderError

__all__ = ["STATUS_OF_TYPE", "anthropic_error", "error_from_body", "refusal"]

# An in-stream error carries no HTTP status: its type says which one it would have had.
STATUS_OF_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


def anthropic_error(
    status: int, kind: str | None, message: str, retry_after: str | None = None
) -> ProviderError:
    """The failure for Anthropic's ``status`` (or an in-stream error's ``kind``)."""
    named = f"{kind}: {message}" if kind else message
    if status in (400, 413):
        code = "request_too_large" if status == 413 else None
        return ProviderError(
            "status", message, status=status, error_type="invalid_request_error", code=code
        )
    if status in (401, 403, 404):
        return ProviderError(
            "status",
            f"the Anthropic upstream refused the gateway's request (HTTP {status} {named})",
            status=502,
            error_type="server_error",
            code="upstream_error",
        )
    if status == 429:
        return ProviderError(
            "status",
            message,
            status=429,
            error_type="requests",
            code="rate_limit_exceeded",
            retry_after=retry_after,
        )
    if status == 529:
        return ProviderError(
            "status", f"the upstream is overloaded ({named})", status=503, error_type="server_error"
        )
    if status >= 500:
        return ProviderError(
            "status", f"the upstream failed ({named})", status=status, error_type="server_error"
        )
    return ProviderError("status", message, status=status, error_type="invalid_request_error")


def refusal(param: str, message: str, code: str = "unsupported_value") -> ProviderError:
    """A request the translation cannot carry to Anthropic: a 400 naming ``param`` (OpenAI's
    codes ``unsupported_value`` / ``unsupported_parameter`` / ``invalid_value``)."""
    return ProviderError(
        "status", message, status=400, error_type="invalid_request_error", code=code, param=param
    )


def _error_object(body: Any) -> Mapping[str, Any]:
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except ValueError:
            return {}
    error = body.get("error") if isinstance(body, Mapping) else None
    return error if isinstance(error, Mapping) else {}


def error_from_body(status: int | None, body: Any, retry_after: str | None = None) -> ProviderError:
    """The failure an error answer (``status`` with its raw ``body``) or an in-stream ``error``
    event (``status`` None, the parsed event) stands for."""
    error = _error_object(body)
    kind = error.get("type") if isinstance(error.get("type"), str) else None
    message = str(error.get("message") or f"the upstream answered HTTP {status}")
    if status is None:
        status = STATUS_OF_TYPE.get(kind or "", 500)
    return anthropic_error(status, kind, message, retry_after)
