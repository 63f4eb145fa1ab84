"""Which checks exist and which of them run: loading the check packages, selecting by level.

Owns: the packages checks are discovered in (every module under them registers its checks with
the global registry when imported), and the selection of a run (level, ``--only`` areas, ids).

Must not: run checks, or import a check module by name (they are found by walking packages).
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Collection, Iterable

from conformance.errors import CheckLoadError
from conformance.registry import CheckSpec, Registry, registry
from conformance.vocabulary import LEVELS, Level

__all__ = ["CHECK_PACKAGES", "load_checks", "select_checks"]

# Where checks live: every module under these packages (or the module itself) is imported and
# registers its checks with the global registry. The drills keep a registry of their own.
CHECK_PACKAGES: tuple[str, ...] = (
    "conformance.checks",
    "conformance.properties",
    "conformance.fuzz.checks",
)


def _import(name: str) -> object:
    try:
        return importlib.import_module(name)
    except Exception as exc:  # reported as one line naming the module
        raise CheckLoadError(f"cannot import {name}: {type(exc).__name__}: {exc}") from exc


def load_checks(packages: Iterable[str] = CHECK_PACKAGES) -> Registry:
    """Import every module under ``packages`` (each registers its checks); return the registry.

    A package that is not installed is passed over; one that fails to import raises
    :class:`CheckLoadError` naming it.
    """
    for package in packages:
        try:
            found = importlib.util.find_spec(package)
        except ModuleNotFoundError:
            found = None
        if found is None:
            continue
        root = _import(package)
        path = getattr(root, "__path__", None)
        if path is None:
            continue
        for info in pkgutil.walk_packages(path, prefix=f"{package}."):
            _import(info.name)
    return registry


def select_checks(
    specs: Iterable[CheckSpec],
    *,
    level: Level = "standard",
    only: Collection[str] = (),
    ids: Collection[str] = (),
) -> list[CheckSpec]:
    """Checks that run at ``level``, in the ``only`` areas (all when empty), or with ``ids``."""
    if level not in LEVELS:
        raise ValueError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    chosen = [s for s in specs if s.runs_at(level)]
    if only:
        chosen = [s for s in chosen if s.area in only]
    if ids:
        chosen = [s for s in chosen if s.id in ids]
    return chosen
