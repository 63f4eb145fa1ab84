"""Fault plans of the controllable upstream: what goes wrong, for which model, how many times.

A plan is one :class:`Fault` with a scope (a model name, or every model) and a count (the next
N matching requests, or every one until cleared). Plans are consulted in the order they were
set; the first one that matches a request is spent. Kinds:

* ``status``: answer HTTP ``status`` (429, 500, 502, 503, 504 or 529) with the upstream's error
  object; a 429 carries ``Retry-After: retry_after_s`` (OpenAI's rate-limit answer, "Error
  codes" guide). 529 is Anthropic's ``overloaded_error`` (Anthropic API reference, "Errors").
* ``reset``: drop the connection before the first response byte.
* ``stall``: send nothing for ``delay_ms``, then drop the connection.
* ``slow_first_byte``: wait ``delay_ms``, then answer normally.
* ``disconnect``: stream ``after_chunks`` events, then drop the connection (no ``[DONE]``).
* ``malformed_chunk``: stream ``after_chunks`` events, then one that is not JSON, then drop.

Must not: do I/O or read clocks (the injector applies a fault; this module only decides).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

from reference_server.errors import FaultPlanError

__all__ = [
    "FAULT_KINDS",
    "MAX_DELAY_MS",
    "Fault",
    "FaultBook",
    "FaultKind",
    "FaultPlan",
    "FaultPlanError",
    "parse_plan",
]

FaultKind = Literal["status", "reset", "stall", "slow_first_byte", "disconnect", "malformed_chunk"]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)
_STATUSES = (429, 500, 502, 503, 504, 529)
# Drills are bounded: no injected wait may hold a connection longer than this.
MAX_DELAY_MS = 60_000
_FIELDS = frozenset(
    {"kind", "status", "retry_after_s", "delay_ms", "after_chunks", "model", "count"}
)


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    status: int = 500
    retry_after_s: int = 1
    delay_ms: int = 0
    after_chunks: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FaultPlan:
    id: str
    fault: Fault
    model: str | None  # None: every model
    count: int | None  # None: until cleared

    def matches(self, model: str | None) -> bool:
        return self.model is None or self.model == model

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "model": self.model, "count": self.count, **self.fault.to_json()}


def _int(raw: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FaultPlanError(
            f"{name}: {value!r} is invalid; expected an integer in [{low}, {high}]"
        )
    return value


def parse_plan(raw: object, plan_id: str) -> FaultPlan:
    """A plan from its JSON form (the control API's request body)."""
    if not isinstance(raw, Mapping):
        raise FaultPlanError(f"a fault plan must be a JSON object, got {raw!r}")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise FaultPlanError(f"unknown field(s) {unknown!r}; valid: {sorted(_FIELDS)}")
    kind = raw.get("kind")
    if kind not in FAULT_KINDS:
        raise FaultPlanError(f"kind: {kind!r} is invalid; expected one of {list(FAULT_KINDS)}")
    status = _int(raw, "status", 500, 400, 599)
    if kind == "status" and status not in _STATUSES:
        raise FaultPlanError(f"status: {status!r} is invalid; expected one of {list(_STATUSES)}")
    model = raw.get("model")
    if model is not None and (not isinstance(model, str) or not model):
        raise FaultPlanError(f"model: {model!r} is invalid; expected a model name or null")
    count = raw.get("count")
    if count is not None:
        count = _int(raw, "count", 1, 1, 1_000_000)
    fault = Fault(
        kind=kind,
        status=status,
        retry_after_s=_int(raw, "retry_after_s", 1, 0, 3600),
        delay_ms=_int(raw, "delay_ms", 0, 0, MAX_DELAY_MS),
        after_chunks=_int(raw, "after_chunks", 0, 0, 100_000),
    )
    return FaultPlan(plan_id, fault, model, count)


class FaultBook:
    """The active plans, in the order they were set."""

    def __init__(self) -> None:
        self._plans: list[FaultPlan] = []
        self._ids = itertools.count(1)

    def add(self, raw: object) -> FaultPlan:
        plan = parse_plan(raw, f"fault_{next(self._ids)}")
        self._plans.append(plan)
        return plan

    def clear(self) -> None:
        self._plans.clear()

    def plans(self) -> tuple[FaultPlan, ...]:
        return tuple(self._plans)

    def take(self, model: str | None) -> Fault | None:
        """The fault for a request for ``model``, spending one use of the matching plan."""
        for index, plan in enumerate(self._plans):
            if not plan.matches(model):
                continue
            if plan.count is not None:
                if plan.count <= 1:
                    del self._plans[index]
                else:
                    self._plans[index] = FaultPlan(plan.id, plan.fault, plan.model, plan.count - 1)
            return plan.fault
        return None
