"""The budget scenario's verdict: did concurrent requests charge any key past its budget, as
the clients were told?

The verdict is the clients' figure: per key, the credits its answers reported (the credits
header, or ``usage.credits_used`` in a stream's usage chunk) summed and compared with the
budget. The gateway's own admin API figure (``spent_credits`` per key) is reported beside it,
with whether the two agree, never instead of it: a gateway that under-reports in its ledger, or
that charges without telling, must not pass on its own word. An answered request that reported
no credits makes the clients' figure incomplete, so the budget cannot be shown kept
(``credits_unreported``). Every refusal must be OpenAI's ``insufficient_quota`` 429 (``type``
and ``code`` ``insufficient_quota``, no ``Retry-After``).

Must not: perform I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from load.metrics import RequestRecord
from load.slo import Slo

__all__ = ["ROUNDING_CREDITS", "budget_section", "default_slos"]

# Each reported charge is rounded to one micro-credit: allow that much per key.
ROUNDING_CREDITS = 1e-6


def budget_section(
    budget: float,
    records: Sequence[RequestRecord],
    admin_spend: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """``admin_spend`` maps key label -> (spent_credits, reserved_credits), read from the
    gateway's admin API after the run (reported beside the verdict; None when not read)."""
    labels = sorted({r["key"] for r in records if r["key"]} | set(admin_spend or {}))
    per_key: list[dict[str, Any]] = []
    for label in labels:
        mine = [r for r in records if r["key"] == label]
        seen = round(sum(r["credits"] or 0.0 for r in mine), 6)
        spent, reserved = (admin_spend or {}).get(label, (None, None))
        per_key.append(
            {
                "key": label,
                "client_seen_credits": seen,
                # Past the budget by more than the rounding of the charges reported.
                "overspend_credits": round(seen - budget, 6)
                if seen - budget > ROUNDING_CREDITS
                else 0.0,
                "admin_spent_credits": spent,
                "admin_reserved_credits": reserved,
            }
        )
    seen_total = round(sum(row["client_seen_credits"] for row in per_key), 6)
    answered = [r for r in records if r["status"] is not None and 200 <= r["status"] < 300]
    unreported = [r for r in answered if r["credits"] is None]
    rejections = [r for r in records if r["status"] == 429]
    well_formed = [
        r for r in rejections if r["error"] == "insufficient_quota" and r["retry_after"] is None
    ]
    overspend = round(sum(row["overspend_credits"] for row in per_key), 6)
    section: dict[str, Any] = {
        "keys": len(per_key),
        "budget_credits": budget,
        "budget_credits_total": round(budget * len(per_key), 6),
        "verdict_from": "client_seen_credits",
        "client_seen_credits": seen_total,
        "overspend_credits": overspend,
        "credits_unreported": len(unreported),
        "budget_kept": overspend == 0 and not unreported,
        "rejections": len(rejections),
        "rejections_well_formed": len(well_formed),
        "per_key": per_key,
    }
    if admin_spend is not None:
        admin_total = round(sum(spent for spent, _ in admin_spend.values()), 6)
        section["admin_spent_credits"] = admin_total
        section["admin_overspend_credits"] = round(
            sum(max(0.0, spent - budget) for spent, _ in admin_spend.values()), 6
        )
        # Each figure is rounded to 1e-6 credit: allow that much per request.
        section["admin_matches_clients"] = abs(seen_total - admin_total) <= ROUNDING_CREDITS * max(
            1, len(records)
        )
    return section


def default_slos(given: Sequence[Slo]) -> list[Slo]:
    """The gates the budget scenario always applies (unless ``--slo`` sets them itself): no key
    charged past its budget as its clients were told, and no answer that hid its charge."""
    named = {slo.metric for slo in given}
    gates = [Slo("overspend_credits", "<=", 0.0), Slo("credits_unreported", "<=", 0.0)]
    return [gate for gate in gates if gate.metric not in named]
