"""A JSON Schema violation of a request body, as OpenAI's error object.

:func:`refusal` turns one ``jsonschema`` error into a 400 ``invalid_request_error`` whose
``param`` is the offending place (``messages[0].content[1].text``) and whose message and code
follow the wording ``fields.py`` uses for the same mistakes (``invalid_type``,
``invalid_value``, ``missing_required_parameter``, ``string_above_max_length``...). For a
failed union it names what the body meant: the member whose type and discriminator match,
else the discriminator itself with every allowed value.

Must not: compile schemas or read the spec (``schemas.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from jsonschema.exceptions import ValidationError

from reference_server.errors import GatewayError, invalid_request
from reference_server.validation.fields import type_name

__all__ = ["error_order", "refusal"]

# Properties whose value selects a union member (the spec's discriminators).
_DISCRIMINATORS: Final = frozenset({"type", "role"})


def error_order(error: ValidationError) -> list[str]:
    """Sort key: the same body always names the same param (deterministic refusals)."""
    return [str(part) for part in error.absolute_path]


def _param(path: Any) -> str | None:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or None


@dataclass(frozen=True, slots=True)
class _Mismatch:
    """Every member of a union refused the value at ``path`` by its type or discriminator."""

    path: tuple[Any, ...]
    value: Any
    types: tuple[str, ...] = ()
    choices: tuple[Any, ...] = ()


def _mismatch(branch: list[ValidationError], depth: int) -> _Mismatch | None:
    """How a union member refused the value outright (wrong JSON type or discriminator)."""
    for error in branch:
        path = tuple(error.absolute_path)
        if error.validator == "type" and len(path) == depth:
            kinds = error.validator_value
            return _Mismatch(
                path, error.instance, types=(kinds,) if isinstance(kinds, str) else tuple(kinds)
            )
        if (
            error.validator in ("enum", "const")
            and len(path) == depth + 1
            and path[-1] in _DISCRIMINATORS
        ):
            values = error.validator_value if error.validator == "enum" else [error.validator_value]
            return _Mismatch(path, error.instance, choices=tuple(values))
        if error.context and len(path) == depth:
            nested = _explain(error)
            # A nested union refusing this same value (or its discriminator) refuses it here
            # too; one refusing a deeper property means this member is the one meant.
            if isinstance(nested, _Mismatch) and (
                len(nested.path) == depth
                or (
                    nested.choices
                    and len(nested.path) == depth + 1
                    and nested.path[-1] in _DISCRIMINATORS
                )
            ):
                return nested
    return None


def _explain(error: ValidationError) -> ValidationError | _Mismatch:
    """The error a reader needs: inside a failed union, the member the body meant to be.

    A member whose JSON type or discriminator (``type``, ``role``) differs from the body's is
    not what the body meant; of the others, the first member's own first error. When every
    member differs so, the union's type or discriminator is what is wrong.
    """
    if not error.context:
        return error
    depth = len(error.absolute_path)
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    mismatches: list[_Mismatch] = []
    meant: list[ValidationError] = []
    for branch in branches.values():
        mismatch = _mismatch(branch, depth)
        if mismatch is None:
            meant.append(min(branch, key=lambda e: (-len(e.absolute_path), error_order(e))))
        else:
            mismatches.append(mismatch)
    # Members the body could have meant that disagree on where it went wrong (an array mixing
    # strings and integers): the union itself is the answer.
    if len({tuple(map(str, e.absolute_path)) for e in meant}) > 1:
        return error
    if meant:
        return _explain(meant[0])
    by_choice = [m for m in mismatches if m.choices]
    if by_choice:
        choices = tuple(dict.fromkeys(c for m in by_choice for c in m.choices))
        return _Mismatch(by_choice[0].path, by_choice[0].value, choices=choices)
    types = tuple(dict.fromkeys(t for m in mismatches for t in m.types))
    return _Mismatch(tuple(error.absolute_path), error.instance, types=types)


def _expected(kinds: Any) -> str:
    names = [kinds] if isinstance(kinds, str) else list(kinds or [])
    words = {"object": "an object", "array": "an array", "integer": "an integer", "null": "null"}
    return " or ".join(words.get(n, f"a {n}") for n in names) or "another type"


def _wrong_type(path: Any, value: Any, kinds: Any) -> GatewayError:
    param = _param(path)
    return invalid_request(
        f"Invalid type for '{param or 'body'}': expected {_expected(kinds)}, but got "
        f"{type_name(value)} ({value!r:.80}).",
        param,
        "invalid_type",
    )


def _bad_value(path: Any, value: Any, choices: Any) -> GatewayError:
    param = _param(path)
    return invalid_request(
        f"Invalid value for '{param or 'body'}': {value!r:.80}. Supported values are: "
        f"{', '.join(repr(c) for c in choices)}.",
        param,
        "invalid_value",
    )


def refusal(raw: ValidationError) -> GatewayError:
    """The OpenAI error object for one schema violation, worded as ``fields.py`` words them."""
    found = _explain(raw)
    if isinstance(found, _Mismatch):
        if found.choices:
            return _bad_value(found.path, found.value, found.choices)
        return _wrong_type(found.path, found.value, found.types)
    error = found
    kind, limit, value = error.validator, error.validator_value, error.instance
    path = list(error.absolute_path)
    param = _param(path)
    where = param or "body"
    if kind == "required":
        missing = next((n for n in limit if not isinstance(value, dict) or n not in value), "?")
        param = _param([*path, missing])
        return invalid_request(
            f"Missing required parameter: '{param}'.", param, "missing_required_parameter"
        )
    if kind == "type":
        return _wrong_type(path, value, limit)
    if kind in ("enum", "const"):
        return _bad_value(path, value, limit if kind == "enum" else [limit])
    if kind in ("maxLength", "minLength"):
        above = kind == "maxLength"
        return invalid_request(
            f"Invalid '{where}': string too {'long' if above else 'short'}. Expected a string "
            f"with {'maximum' if above else 'minimum'} length {limit}, but got a string with "
            f"length {len(value)} instead.",
            param,
            "string_above_max_length" if above else "string_below_min_length",
        )
    if kind in ("maxItems", "minItems"):
        above = kind == "maxItems"
        if not above and not value:
            return invalid_request(
                f"Invalid '{where}': empty array. Expected an array with minimum length {limit}, "
                "but got an empty array instead.",
                param,
                "empty_array",
            )
        return invalid_request(
            f"Invalid '{where}': array too {'long' if above else 'short'}. Expected an array "
            f"with {'maximum' if above else 'minimum'} length {limit}, but got an array with "
            f"length {len(value)} instead.",
            param,
            "array_above_max_length" if above else "array_below_min_length",
        )
    if kind in ("minimum", "maximum"):
        above = kind == "maximum"
        number = "integer" if isinstance(value, int) else "decimal"
        return invalid_request(
            f"Invalid '{where}': {value!r} is "
            f"{'above the maximum' if above else 'below the minimum'} of {limit}.",
            param,
            f"{number}_{'above_max' if above else 'below_min'}_value",
        )
    if kind == "pattern":
        return invalid_request(
            f"Invalid '{where}': {value!r:.80} must match {limit}.", param, "invalid_value"
        )
    if kind in ("oneOf", "anyOf"):
        return invalid_request(
            f"Invalid '{where}': {value!r:.80} matches none of the forms the spec allows here.",
            param,
            "invalid_type",
        )
    return invalid_request(
        f"Invalid '{where}': {value!r:.80} does not match the request schema "
        f"({error.message:.200}).",
        param,
        "invalid_value",
    )
