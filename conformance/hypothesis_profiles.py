"""Hypothesis settings profiles for parity's generated cases: ``dev``, ``ci``, ``thorough``.

- ``dev``: few examples, quick feedback while writing a check.
- ``ci``: derandomized (Hypothesis docs, "Settings: derandomize").
- ``thorough``: many examples, for a run someone waits for on purpose.

No profile lets anything but the seed choose the examples, so verdicts do not change from run
to run: no example database (a saved failing example would be replayed first in the next run,
and a fresh checkout would not have it; Hypothesis docs, "Settings: database"), and no
deadline (a loaded CI machine or a slow target must not turn into a ``DeadlineExceeded``
failure; "Settings: deadline"). Time is bounded per example by the property harness instead,
and a check's time by the runner. The seed itself comes from :mod:`conformance.seeds`.

Every profile keeps what a paid target needs: no shrinking (each shrink step is another billed
request; a property reports the first failing example as it is), and no health checks (the
strategies filter little and a target's latency is not the strategy's fault).

Must not: register anything at import time (:func:`register_profiles` does, once).
"""

from __future__ import annotations

import threading
from typing import Literal, get_args

from hypothesis import HealthCheck, Phase, settings

__all__ = ["PROFILES", "ProfileName", "property_settings", "register_profiles"]

ProfileName = Literal["dev", "ci", "thorough"]
PROFILES: tuple[ProfileName, ...] = get_args(ProfileName)

_EXAMPLES: dict[ProfileName, int] = {"dev": 5, "ci": 8, "thorough": 50}
_LOCK = threading.Lock()
_REGISTERED = threading.Event()


def register_profiles() -> None:
    """Register the three profiles with Hypothesis (idempotent)."""
    if _REGISTERED.is_set():
        return
    with _LOCK:
        if _REGISTERED.is_set():
            return
        common = {
            "deadline": None,
            "database": None,
            "phases": (Phase.explicit, Phase.reuse, Phase.generate),
            "suppress_health_check": list(HealthCheck),
            "print_blob": False,
        }
        settings.register_profile("dev", max_examples=_EXAMPLES["dev"], **common)  # type: ignore[arg-type]
        settings.register_profile(
            "ci",
            max_examples=_EXAMPLES["ci"],
            derandomize=True,
            **common,  # type: ignore[arg-type]
        )
        settings.register_profile("thorough", max_examples=_EXAMPLES["thorough"], **common)  # type: ignore[arg-type]
        _REGISTERED.set()


def property_settings(name: str = "ci", *, max_examples: int | None = None) -> settings:
    """The named profile (``dev``, ``ci``, ``thorough``), optionally with fewer examples."""
    if name not in PROFILES:
        raise ValueError(f"unknown hypothesis profile {name!r}; valid profiles: {PROFILES}")
    register_profiles()
    chosen = settings.get_profile(name)
    if max_examples is not None:
        if max_examples < 1:
            raise ValueError(f"max_examples must be >= 1, got {max_examples!r}")
        chosen = settings(chosen, max_examples=max_examples)
    # No example database for checks against a target: examples are about this target, now.
    return settings(chosen, database=None)
