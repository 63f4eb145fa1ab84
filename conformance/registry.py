"""The check registry: every conformance rule, with its stable id, level and source.

A check is an ``async def check_...(ctx: CheckContext) -> None`` registered with
:func:`check`. It passes by returning, and reports anything else by raising one of the
outcome exceptions (:class:`CheckFailed`, :class:`CheckWarning`, :class:`CheckSkipped`, defined
in :mod:`conformance.errors` and re-exported here, so a check module needs this one import); it
never prints or writes reports (the runner and the writers do).

Check ids are stable, dotted and lowercase (``<area>.<topic>.<rule>``): they appear in reports
and ``--skip`` lists and are never renumbered.

Must not: perform I/O at import time, or import the runner (the runner imports this).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conformance.errors import CheckFailed, CheckSkipped, CheckWarning
from conformance.vocabulary import CAPABILITIES, LEVELS, Capability, Level, Outcome

if TYPE_CHECKING:
    from conformance.context import CheckContext

__all__ = [
    "CAPABILITIES",
    "LEVELS",
    "Capability",
    "CheckFailed",
    "CheckFunc",
    "CheckSkipped",
    "CheckSpec",
    "CheckWarning",
    "Level",
    "Outcome",
    "Registry",
    "check",
    "registry",
]

CheckFunc = Callable[["CheckContext"], Awaitable[None]]

_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+){2,}$")


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One registered rule.

    ``source`` cites where the rule comes from: a section of OpenAI's API reference or guide,
    a component of the official OpenAPI spec, or a named behaviour of the official SDK. Never
    "what our reference server does".
    """

    id: str
    area: str
    level: Level
    endpoint: str
    asserts: str
    source: str
    capability: Capability | None
    func: CheckFunc

    def runs_at(self, level: Level) -> bool:
        """A check of level ``smoke`` also runs at ``standard`` and ``deep``, and so on."""
        return LEVELS.index(self.level) <= LEVELS.index(level)


class Registry:
    """An ordered collection of checks keyed by id."""

    def __init__(self) -> None:
        self._checks: dict[str, CheckSpec] = {}

    def add(self, spec: CheckSpec) -> None:
        if not _ID.match(spec.id):
            raise ValueError(
                f"check id {spec.id!r} is not of the form '<area>.<topic>.<rule>' "
                "(lowercase, dotted, at least three parts)"
            )
        if spec.level not in LEVELS:
            raise ValueError(f"check {spec.id!r}: level {spec.level!r} is not one of {LEVELS}")
        if spec.capability is not None and spec.capability not in CAPABILITIES:
            raise ValueError(
                f"check {spec.id!r}: capability {spec.capability!r} is not one of {CAPABILITIES}"
            )
        existing = self._checks.get(spec.id)
        if existing is not None and existing.func is not spec.func:
            raise ValueError(f"check id {spec.id!r} is registered twice")
        self._checks[spec.id] = spec

    def get(self, check_id: str) -> CheckSpec:
        try:
            return self._checks[check_id]
        except KeyError:
            raise KeyError(f"no check with id {check_id!r}") from None

    def __iter__(self) -> Iterator[CheckSpec]:
        return iter(self._checks.values())

    def __len__(self) -> int:
        return len(self._checks)

    def __contains__(self, check_id: object) -> bool:
        return check_id in self._checks


registry = Registry()


def check(
    id: str,
    *,
    area: str,
    level: Level,
    endpoint: str,
    asserts: str,
    source: str,
    capability: Capability | None = None,
    into: Registry | None = None,
) -> Callable[[CheckFunc], CheckFunc]:
    """Register ``func`` as check ``id``; returns ``func`` unchanged."""

    def register(func: CheckFunc) -> CheckFunc:
        (registry if into is None else into).add(
            CheckSpec(
                id=id,
                area=area,
                level=level,
                endpoint=endpoint,
                asserts=asserts,
                source=source,
                capability=capability,
                func=func,
            )
        )
        return func

    return register
