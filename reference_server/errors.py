"""Every exception the reference server raises, and how a failure leaves as OpenAI's error object.

The tree::

    ReferenceServerError
     ├── GatewayError           an answer: the OpenAI error object with its HTTP status and
     │                          headers (refusals of the controls, bad requests, upstream
     │                          failures as the client hears them)
     ├── ProviderError          an upstream failed: connect, timeout, error status, protocol
     │                          (``gateway/fallback.py`` decides whether the next deployment is
     │                          tried and what the client hears)
     ├── StoreUnavailableError  the controls' store did not answer in time; the controls fail
     │                          closed with a 503 GatewayError
     ├── BudgetExceededError    a reservation does not fit its budget (the controls answer 429)
     ├── UsageError             a command line that cannot run (``parity serve``, ``parity
     │                          upstream``: exit status 2)
     ├── ConfigError            a configuration that cannot be served (also a ValueError)
     │    └── ControlsConfigError   its ``controls`` section
     └── FaultPlanError         a drill fault plan sent to ``parity upstream`` (also a ValueError)

Every failure the server answers is ``{"error": {"message", "type", "param", "code"}}`` (OpenAI
API reference, "Error codes"; spec component ``ErrorResponse``) with the right HTTP status;
validation problems are 400 ``invalid_request_error`` (never FastAPI-style 422).
:func:`render_error` is the one place an exception becomes that object, for the ASGI edge, the
admin API, the in-stream error events of SSE streams and the Realtime ``error`` event. An
exception the server cannot name is logged there, with its traceback, before it answers a bare
500 ``server_error``.

Must not: know about Starlette, requests or providers (``edge`` and ``endpoints/`` render).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Literal, NamedTuple, TypedDict

__all__ = [
    "BudgetExceededError",
    "ConfigError",
    "ControlsConfigError",
    "ErrorBody",
    "ErrorObject",
    "FailureKind",
    "FaultPlanError",
    "GatewayError",
    "ProviderError",
    "ReferenceServerError",
    "Rendered",
    "StoreUnavailableError",
    "UsageError",
    "error_body",
    "error_bytes",
    "invalid_request",
    "model_not_found",
    "render_error",
]

_log = logging.getLogger("reference_server")

FailureKind = Literal["connect", "timeout", "status", "protocol"]


class ErrorObject(TypedDict):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorBody(TypedDict):
    error: ErrorObject


class ReferenceServerError(Exception):
    """The root of every exception this package raises on purpose."""


class GatewayError(ReferenceServerError):
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


class ProviderError(ReferenceServerError):
    """An upstream failure: connect error, timeout, an error status, or a broken protocol."""

    def __init__(
        self,
        kind: FailureKind,
        message: str,
        *,
        status: int = 502,
        error_type: str = "api_error",
        code: str | None = None,
        param: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.error_type = error_type
        self.code = code
        self.param = param
        self.retry_after = retry_after


class StoreUnavailableError(ReferenceServerError):
    """The store did not answer in time or failed; the controls fail closed."""


class BudgetExceededError(ReferenceServerError):
    """``spent + reserved + amount`` would pass ``limit_micro`` on budget ``bucket``."""

    def __init__(
        self, bucket: str, spent: int, reserved: int, limit_micro: int, amount: int
    ) -> None:
        super().__init__(
            f"budget {bucket!r}: spent {spent} + reserved {reserved} + "
            f"request {amount} > limit {limit_micro} micro-credits"
        )
        self.bucket = bucket
        self.spent = spent
        self.reserved = reserved
        self.limit_micro = limit_micro
        self.amount = amount


class UsageError(ReferenceServerError):
    """A command line that cannot run; the message names the option and the bad value."""


class ConfigError(ReferenceServerError, ValueError):
    """The configuration is invalid; the message names the field and the offending value."""


class ControlsConfigError(ConfigError):
    """The ``controls`` section is invalid; the message names the field and the bad value."""


class FaultPlanError(ReferenceServerError, ValueError):
    """A fault plan is invalid; the message names the field and the offending value."""


class Rendered(NamedTuple):
    """An exception as the client sees it: HTTP status, OpenAI error object, headers."""

    status: int
    body: ErrorBody
    headers: Mapping[str, str]


_UNNAMED = "The server had an error while processing your request."


def render_error(exc: BaseException, *, request_id: str = "") -> Rendered:
    """The OpenAI error object for ``exc``: a :class:`GatewayError` as itself; any other
    exception is logged (logger ``reference_server``, with its traceback and the request id
    the client saw in ``x-request-id``) and answered as a bare 500 ``server_error``: the client
    learns nothing of the failure, the operator everything but the request's data."""
    if isinstance(exc, GatewayError):
        return Rendered(exc.status, exc.body(), exc.headers)
    # The record carries the exception and the request id, never headers or the body: a key
    # is only ever in those (the controls keep its SHA-256).
    _log.error(
        "request req_%s failed unexpectedly (%s); answered 500 server_error",
        request_id,
        type(exc).__name__,
        exc_info=exc,
    )
    return Rendered(500, error_body(_UNNAMED, "server_error", None, None), {})


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
