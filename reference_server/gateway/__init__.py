"""The request flow and its pure rules: what happens to a request between its endpoint and the
ledger.

``flow`` (``Gateway.serve``: authenticate -> resolve alias -> admit -> dispatch with fallback ->
settle), ``aliases`` (the model asked -> its deployments), ``fallback`` (which deployment next,
which failures move on), ``circuit`` (breakers per deployment), ``relay`` (a stream past its
commit point, billed at the right moment), ``catalog`` (the model listings and their health).

Must not: parse or render HTTP (``endpoints/``), or hold billing rules (``controls/``).
"""

from __future__ import annotations

__all__: list[str] = []
