"""Gateway drills: black-box verdicts on a gateway's fallbacks, metering, budgets and limits.

A drill controls the upstreams a gateway routes to (``parity upstream`` instances, through their
``/_parity/`` control API), injects a fault, sends requests through the gateway like any client,
and judges what the client saw against the upstreams' truth ledgers and the drill profile (what
the gateway says it is configured to do). Drills are checks in area ``drills`` with ids
``drills.<topic>.<rule>``, kept in a registry of their own (:data:`DRILLS`) so ``parity check``
never runs them; ``parity drill`` runs them one at a time, in registration order.

Must not: import the reference server (drills judge any gateway), or aim at non-loopback upstream
controls unless the command line allows it.
"""

from __future__ import annotations

import importlib

from conformance.registry import Registry

__all__ = ["DRILLS", "DRILL_MODULES", "load_drills"]

DRILLS = Registry()

# In the order they run: each leaves the upstreams healthy for the next.
DRILL_MODULES: tuple[str, ...] = (
    "conformance.drills.fallback",
    "conformance.drills.midstream",
    "conformance.drills.metering",
    "conformance.drills.translation",
    "conformance.drills.translation_usage",
    "conformance.drills.limits",
    "conformance.drills.recovery",
)


def load_drills() -> Registry:
    for name in DRILL_MODULES:
        importlib.import_module(name)
    return DRILLS
