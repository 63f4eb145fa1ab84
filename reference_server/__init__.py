"""parity's reference gateway: an OpenAI-compatible Starlette app with alias routing, metering,
budgets, rate limits and fallback. It proves the suite and is its embedded default target.

Must not: import ``conformance`` or ``load`` (they share only the data in ``spec/``).
"""

from __future__ import annotations

__all__: list[str] = []
