"""The gateway's promises: keys, rate limits, budgets, metering and the spend ledger.

``base`` is the seam the request flow calls (``Controls``: authenticate, admit, settle,
release, aclose) with its minimal implementation (``StaticControls``); ``metered`` is the full
one (``MeteredControls``), built from the config's ``controls`` section by ``config``. The
rules are pure modules (``keys``, ``budgets``, ``ratelimits``, ``metering``, ``ledger``); the
shared state lives in ``stores/`` (SQLite by default, Redis).

Must not: import ``gateway``, ``providers``, ``endpoints`` or ``validation``; know about HTTP.
"""

from __future__ import annotations

__all__: list[str] = []
