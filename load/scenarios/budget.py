"""The budget scenario's verdict: did concurrent requests push any key's spend past its budget?

Inputs are numbers already fetched (the gateway's ``spent_credits`` per key from its admin API,
and the run's records). The promise under test is the one ``spec/admin.yaml`` states under
"Budgets": admission holds each request's maximum cost until it settles, so concurrent requests
never push spend past the budget, and every refusal is a well-formed OpenAI ``insufficient_quota``
429 (``type`` and ``code`` ``insufficient_quota``, no ``Retry-After``).

Must not: perform I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from load.metrics import RequestRecord

__all__ = ["budget_section"]


def budget_section(
    spend: Mapping[str, tuple[float, float]], budget: float, records: Sequence[RequestRecord]
) -> dict[str, Any]:
    """``spend`` maps key label -> (spent_credits, reserved_credits) read after the run."""
    per_key: list[dict[str, Any]] = []
    for label, (spent, reserved) in spend.items():
        # Credits the clients were told (header or usage.credits_used), partial streams included.
        seen = sum(r["credits"] or 0.0 for r in records if r["key"] == label)
        per_key.append(
            {
                "key": label,
                "spent_credits": spent,
                "reserved_credits": reserved,
                "overspend_credits": round(max(0.0, spent - budget), 6),
                "client_seen_credits": round(seen, 6),
            }
        )
    spent_total = sum(row["spent_credits"] for row in per_key)
    seen_total = sum(row["client_seen_credits"] for row in per_key)
    rejections = [r for r in records if r["status"] == 429]
    well_formed = [
        r for r in rejections if r["error"] == "insufficient_quota" and r["retry_after"] is None
    ]
    return {
        "keys": len(per_key),
        "budget_credits": budget,
        "budget_credits_total": round(budget * len(per_key), 6),
        "spent_credits": round(spent_total, 6),
        "overspend_credits": round(sum(row["overspend_credits"] for row in per_key), 6),
        "client_seen_credits": round(seen_total, 6),
        # Each figure is rounded to 1e-6 credit: allow that much per request.
        "ledger_matches_clients": abs(seen_total - spent_total) <= 1e-6 * max(1, len(records)),
        "rejections": len(rejections),
        "rejections_well_formed": len(well_formed),
        "per_key": per_key,
    }
