"""Each broken gateway fails exactly the drill that judges its defect; the defect-free one and
its legal-but-unusual variants pass."""

from __future__ import annotations

import pytest

from tests.drills.broken import broken_gateway
from tests.drills.conftest import DRILL_KEY, Upstreams, drill_profile, messages, outcomes, run
from tests.live import serve

# Slow drills (seconds each) run only when they are the one under test.
SLOW = {
    "drills.fallback.primary_stall",
    "drills.ratelimit.accepted_rate",
    "drills.recovery.primary_returns",
}
ALL = (
    "drills.fallback.primary_5xx",
    "drills.fallback.primary_429",
    "drills.fallback.primary_reset",
    "drills.fallback.primary_stall",
    "drills.fallback.all_down",
    "drills.midstream.disconnect",
    "drills.midstream.malformed_chunk",
    "drills.metering.non_stream",
    "drills.metering.stream",
    "drills.metering.fallback",
    "drills.metering.partial_stream",
    "drills.budget.concurrent",
    "drills.ratelimit.accepted_rate",
    "drills.recovery.primary_returns",
)
CASES = {
    "no_fallback_5xx": "drills.fallback.primary_5xx",
    "no_fallback_429": "drills.fallback.primary_429",
    "no_fallback_reset": "drills.fallback.primary_reset",
    "no_timeout": "drills.fallback.primary_stall",
    "hang_all_down": "drills.fallback.all_down",
    "splice": "drills.midstream.disconnect",
    "done_on_malformed": "drills.midstream.malformed_chunk",
    "primary_price_typo": "drills.metering.non_stream",
    "stream_price": "drills.metering.stream",
    "bill_failed_attempt": "drills.metering.fallback",
    "partial_bills_full": "drills.metering.partial_stream",
    "no_reservation": "drills.budget.concurrent",
    "per_worker": "drills.ratelimit.accepted_rate",
    "sticky_fallback": "drills.recovery.primary_returns",
}


def _run(ups: Upstreams, defects: frozenset[str], ids: tuple[str, ...]) -> dict[str, str]:
    # The gateway reads only prices, keys, limits and timeouts from the profile; the drills
    # also need its spend URL, known once it listens.
    app = broken_gateway(ups.primary, ups.fallback, drill_profile(None), defects)
    with serve(app) as origin:
        result = run(origin, ups, drill_profile(f"{origin}/admin/spend?key_id={DRILL_KEY}"), ids)
    found = outcomes(result)
    found["_messages"] = messages(result)
    return found


def test_defect_free_gateway_passes_every_drill(upstreams: Upstreams) -> None:
    found = _run(upstreams, frozenset(), ALL)
    text = found.pop("_messages")
    assert set(found.values()) == {"passed"}, text


@pytest.mark.parametrize(("defect", "drill"), list(CASES.items()), ids=list(CASES))
def test_broken_gateway_fails_exactly_its_drill(
    upstreams: Upstreams, defect: str, drill: str
) -> None:
    ids = tuple(i for i in ALL if i not in SLOW or i == drill)
    found = _run(upstreams, frozenset({defect}), ids)
    text = found.pop("_messages")
    failed = {i for i, outcome in found.items() if outcome == "failed"}
    assert failed == {drill}, text


def test_timely_error_on_stall_is_legal(upstreams: Upstreams) -> None:
    found = _run(upstreams, frozenset({"stall_error"}), ("drills.fallback.primary_stall",))
    text = found.pop("_messages")
    assert found == {"drills.fallback.primary_stall": "passed"}, text


def test_cut_transfer_without_error_event_is_a_warning(upstreams: Upstreams) -> None:
    ids = ("drills.midstream.disconnect", "drills.midstream.malformed_chunk")
    found = _run(upstreams, frozenset({"cut_without_error"}), ids)
    text = found.pop("_messages")
    assert set(found.values()) == {"warning"}, text
