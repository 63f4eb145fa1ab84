"""Recovery drill: after the primary heals, traffic returns to it within the circuit window.

The primary answers 503 for ``failure_threshold + 1`` requests (enough to open a breaker), then
heals. Requests keep flowing (every one must succeed, through the fallback); the first one the
primary serves must come within the profile's ``circuit.window_s`` of the healing (plus one poll
interval and 10%). A gateway that stays on the fallback forever fails.

Must not: leave a fault plan behind.
"""

from __future__ import annotations

import asyncio
import time

from conformance.context import CheckContext
from conformance.drills import DRILLS
from conformance.drills.environment import current
from conformance.drills.verdicts import judge_recovery
from conformance.exchange import Exchange
from conformance.registry import CheckFailed, CheckSkipped, check

__all__: list[str] = []


@check(
    "drills.recovery.primary_returns",
    area="drills",
    level="standard",
    endpoint="POST /v1/chat/completions",
    asserts="after the primary heals, traffic returns to it within the circuit-breaker window, "
    "with no client errors meanwhile",
    source="Circuit-breaker pattern (closed -> open -> half-open); spec/PROVENANCE.md, "
    "'Gateway drills' 6",
    into=DRILLS,
)
async def check_recovery(ctx: CheckContext) -> None:
    env = current()
    circuit = env.profile.circuit
    if circuit is None:
        raise CheckSkipped("the profile defines no circuit window (circuit)")
    await env.warm(ctx)
    await env.primary.fault("status", status=503)
    failures = 0
    last: Exchange | None = None
    try:
        for _ in range(circuit.failure_threshold + 1):
            last, _elapsed = await env.chat(ctx, timeout=30)
            failures += last.status != 200
        mark = await env.primary.mark()
    finally:
        await env.primary.clear()
    healed_at = time.monotonic()
    poll = max(0.05, circuit.window_s / 10)
    deadline = healed_at + circuit.window_s * 1.1 + poll + 0.5
    first_primary: float | None = None
    while time.monotonic() < deadline and first_primary is None:
        sent_at = time.monotonic()
        last, _elapsed = await env.chat(ctx, timeout=30)
        failures += last.status != 200
        if any(s.completed for s in await env.primary.since(mark)):
            first_primary = sent_at
            break
        await asyncio.sleep(max(0.0, sent_at + poll - time.monotonic()))
    await env.reset()
    problems = judge_recovery(healed_at, first_primary, circuit.window_s, poll, failures)
    if problems:
        raise CheckFailed("; ".join(problems), last)
