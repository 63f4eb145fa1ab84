"""Field rules shared by the request validators: type, range, length and enum checks.

Each raises a 400 :class:`GatewayError` (``invalid_request_error``) naming the ``param`` and
showing the offending value, in the wording OpenAI uses for the same mistakes.

Must not: know about endpoints or the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reference_server.errors import invalid_request

__all__ = [
    "ROLES",
    "TOOL_NAME",
    "UNSET",
    "boolean",
    "choice",
    "model_field",
    "number",
    "object_field",
    "string",
    "type_name",
    "wrong_type",
]

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
ROLES = ("system", "developer", "user", "assistant", "tool", "function")
UNSET: Any = object()


def type_name(value: Any) -> str:
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def wrong_type(param: str, value: Any, expected: str) -> Exception:
    return invalid_request(
        f"Invalid type for '{param}': expected {expected}, but got {type_name(value)} ({value!r:.60}).",
        param,
        "invalid_type",
    )


def number(
    body: Mapping[str, Any], name: str, low: float, high: float, *, integer: bool = False
) -> None:
    value = body.get(name, UNSET)
    if value is UNSET or value is None:
        return
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if not ok or isinstance(value, bool):
        raise wrong_type(name, value, "an integer" if integer else "a number")
    if value < low:
        raise invalid_request(
            f"Invalid '{name}': {value!r} is below the minimum of {low:g}.",
            name,
            "integer_below_min_value" if integer else "decimal_below_min_value",
        )
    if value > high:
        raise invalid_request(
            f"Invalid '{name}': {value!r} is above the maximum of {high:g}.",
            name,
            "integer_above_max_value" if integer else "decimal_above_max_value",
        )


def boolean(body: Mapping[str, Any], name: str) -> None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise wrong_type(name, value, "a boolean")


def string(
    body: Mapping[str, Any],
    name: str,
    *,
    required: bool = False,
    max_length: int | None = None,
    allow_empty: bool = False,
) -> None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid_request(
                f"Missing required parameter: '{name}'.", name, "missing_required_parameter"
            )
        return
    if not isinstance(value, str):
        raise wrong_type(name, value, "a string")
    if required and not value and not allow_empty:
        raise invalid_request(
            f"Invalid '{name}': empty string. Expected a non-empty string.", name, "empty_string"
        )
    if max_length is not None and len(value) > max_length:
        raise invalid_request(
            f"Invalid '{name}': string too long. Expected a string with maximum length {max_length}, "
            f"but got a string with length {len(value)} instead.",
            name,
            "string_above_max_length",
        )


def choice(body: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> None:
    value = body.get(name)
    if value is None:
        return
    if value not in choices:
        raise invalid_request(
            f"Invalid value for '{name}': {value!r}. Supported values are: {', '.join(repr(c) for c in choices)}.",
            name,
            "invalid_value",
        )


def object_field(body: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise wrong_type(name, value, "an object")
    return value


def model_field(body: Mapping[str, Any]) -> None:
    string(body, "model")
