"""The documented bounds of every numeric Chat Completions parameter, and a value past each.

Read from ``spec/openai.yaml`` (``CreateChatCompletionRequest``: every property with a
``minimum`` or ``maximum``: temperature 0..2, top_p 0..1, presence and frequency penalty
-2..2, n 1..128, top_logprobs 0..20), plus the bounds OpenAI states only in words: the
``logit_bias`` values ("an associated bias value from -100 to 100", official spec) and
``max_completion_tokens`` >= 1 (OpenAI refuses 0 with ``integer_below_min_value``, "Expected a
value >= 1"). A value just past a bound is what a target that checks no bound would accept.

Must not: send requests or judge answers (``errors.request.out_of_range`` does).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from conformance.schemas import spec_dir

__all__ = ["OutOfRange", "out_of_range_values"]

# Past an integer bound by one, past a number bound by a half.
_STEP = {"integer": 1, "number": 0.5}
# Bounds stated in words only (the schema has none): (parameter, side, value sent, bound).
_WORDED: tuple[tuple[str, Literal["minimum", "maximum"], Any, str], ...] = (
    ("max_completion_tokens", "minimum", 0, "minimum 1"),
    ("logit_bias", "minimum", {"50256": -101}, "values from -100 to 100"),
    ("logit_bias", "maximum", {"50256": 101}, "values from -100 to 100"),
)
# A parameter that only applies together with another (top_logprobs needs logprobs: true).
_NEEDS: dict[str, dict[str, Any]] = {"top_logprobs": {"logprobs": True}}


@dataclass(frozen=True, slots=True)
class OutOfRange:
    """One out-of-range request: ``parameter`` set to ``value``, past its ``bound``."""

    parameter: str
    side: Literal["minimum", "maximum"]
    value: Any
    bound: str
    needs: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """A stable name for the probe (shared-request key, message)."""
        return f"{self.parameter}.{self.side}"

    def fields(self) -> dict[str, Any]:
        """The request fields that carry the value (and what it needs to apply)."""
        return {**self.needs, self.parameter: self.value}


def _kind(schema: dict[str, Any]) -> str | None:
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return next((k for k in kinds if k in _STEP), None)


@functools.cache
def out_of_range_values() -> tuple[OutOfRange, ...]:
    """Every documented bound of CreateChatCompletionRequest, each with a value past it."""
    text = (spec_dir() / "openai.yaml").read_text(encoding="utf-8")
    document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    properties = document["components"]["schemas"]["CreateChatCompletionRequest"]["properties"]
    found: list[OutOfRange] = []
    for name, schema in properties.items():
        kind = _kind(schema) if isinstance(schema, dict) else None
        if kind is None:
            continue
        step = _STEP[kind]
        needs = _NEEDS.get(name, {})
        if "minimum" in schema:
            low = schema["minimum"]
            found.append(OutOfRange(name, "minimum", low - step, f"minimum {low}", needs))
        if "maximum" in schema:
            high = schema["maximum"]
            found.append(OutOfRange(name, "maximum", high + step, f"maximum {high}", needs))
    documented = {probe.parameter for probe in found}
    for name, side, value, bound in _WORDED:
        if name not in documented:
            found.append(OutOfRange(name, side, value, bound, _NEEDS.get(name, {})))
    return tuple(found)
