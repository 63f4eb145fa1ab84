"""Stores for the controls' shared state: keys, rate-limit TATs, budget counters, holds, ledger.

Two backends implement :class:`ControlsStore` with atomic operations so that several worker
processes (and, with Redis, several hosts) share one view:

* ``SqliteStore`` (embedded default): WAL journal, every mutation one ``BEGIN IMMEDIATE``
  transaction, run on one dedicated thread per process so the event loop never waits on a lock;
* ``RedisStore``: each mutation one Lua script (atomic on the server), with socket timeouts.

Unreachable store: **fail closed**. Admission and settlement raise :class:`StoreUnavailableError`
(the controls answer 503 ``api_error``/``store_unavailable``) after a bounded wait (SQLite
``busy_timeout``, Redis socket timeouts); nothing hangs, nothing is served unmetered.

Must not: know about HTTP or the request flow.
"""

from __future__ import annotations

from reference_server.controls.stores.base import (
    AdmitOutcome,
    AdmitRequest,
    BudgetCharge,
    ControlsStore,
    Hold,
    RateCharge,
    StoreUnavailableError,
    decide_admission,
)

__all__ = [
    "AdmitOutcome",
    "AdmitRequest",
    "BudgetCharge",
    "ControlsStore",
    "Hold",
    "RateCharge",
    "StoreUnavailableError",
    "decide_admission",
]
