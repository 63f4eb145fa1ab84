"""Budget and rate-limit drills.

Budget under concurrency: N requests sent at once with a key whose budget B fits only some of
them. Whatever the gateway admits, the total charged (credits reported, and the upstreams' served
tokens priced) stays <= B, and every refusal is OpenAI's 429 ``insufficient_quota`` ("You
exceeded your current quota": API reference, "Error codes"). A gateway that checks the budget
before a call but charges after it overspends here.

Rate limit: requests offered at a steady multiple of the limit for a few periods; past the first
period (bursts allowed there) the accepted rate is within 5% of the limit (+-1 request per window
edge), and every 429 carries ``Retry-After`` (OpenAI's rate-limit answers do; the SDK honours it).

Must not: run without the profile's dedicated keys (they are spent by the drills).
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from conformance.context import CheckContext
from conformance.drills import DRILLS
from conformance.drills.environment import current, error_code, header_credits
from conformance.drills.metering import truth_cost
from conformance.drills.verdicts import judge_budget, judge_rate
from conformance.exchange import Exchange
from conformance.registry import CheckFailed, CheckSkipped, CheckWarning, check

__all__ = ["MAX_RATE_REQUESTS"]

MAX_RATE_REQUESTS = 2000  # drills are bounded


@check(
    "drills.budget.concurrent",
    area="drills",
    level="standard",
    endpoint="POST /v1/chat/completions",
    asserts="N concurrent requests against budget B: total charged <= B, refusals are 429 "
    "insufficient_quota",
    source="OpenAI API reference, 'Error codes' (429 insufficient_quota); "
    "spec/PROVENANCE.md, 'Gateway drills' 4",
    into=DRILLS,
)
async def check_budget(ctx: CheckContext) -> None:
    env = current()
    budget = env.profile.budget
    if budget is None:
        raise CheckSkipped("the profile defines no budget drill (budget)")
    marks = await env.reset()
    results = await asyncio.gather(
        *(
            env.chat(ctx, api_key=budget.api_key, max_tokens=budget.max_tokens, timeout=30)
            for _ in range(budget.requests)
        )
    )
    served = await env.served(marks)
    exchanges = [exchange for exchange, _ in results]
    accepted = [e for e in exchanges if e.status == 200]
    refused = [e for e in exchanges if e.status != 200]
    header = env.profile.metering.credits_header
    charged = Decimal(0)
    for exchange in accepted:
        credits = header_credits(exchange, header)
        if credits is None:
            raise CheckFailed(f"an admitted request reported no credits ({header!r})", exchange)
        charged += credits
    problems = judge_budget(
        budget.credits,
        charged,
        truth_cost(env, served),
        [(e.status, error_code(e)) for e in refused],
        env.profile.metering.tolerance,
    )
    evidence = refused[0] if refused else (accepted[-1] if accepted else None)
    if problems:
        raise CheckFailed("; ".join(problems), evidence)
    if not accepted:
        raise CheckSkipped(
            "every request was refused: the budget key is already spent (restart the gateway "
            "with a fresh store, or give the profile a fresh key)"
        )
    if not refused:
        raise CheckWarning(
            f"all {len(accepted)} requests fit in the budget of {budget.credits}: lower it or "
            "raise budget.requests so the drill reaches the limit",
            evidence,
        )


@check(
    "drills.ratelimit.accepted_rate",
    area="drills",
    level="standard",
    endpoint="POST /v1/chat/completions",
    asserts="steady accepted rate within 5% of the configured limit; every 429 carries Retry-After",
    source="OpenAI API reference, 'Rate limits' guide (429 with Retry-After); "
    "spec/PROVENANCE.md, 'Gateway drills' 5",
    into=DRILLS,
)
async def check_rate(ctx: CheckContext) -> None:
    env = current()
    rate = env.profile.rate_limit
    if rate is None:
        raise CheckSkipped("the profile defines no rate-limit drill (rate_limit)")
    await env.reset()
    interval = rate.period_s / (rate.limit * rate.offered_factor)
    count = int(rate.periods * rate.period_s / interval)
    if count > MAX_RATE_REQUESTS:
        raise CheckSkipped(
            f"the rate drill would send {count} requests (limit {rate.limit} x offered_factor "
            f"{rate.offered_factor:g} x {rate.periods} periods); the cap is {MAX_RATE_REQUESTS}: "
            "lower the limit (a dedicated key) or the periods"
        )
    start = time.monotonic()

    async def one(index: int) -> tuple[float, Exchange]:
        sent_at = index * interval
        await asyncio.sleep(max(0.0, start + sent_at - time.monotonic()))
        at = time.monotonic() - start
        exchange, _ = await env.chat(ctx, api_key=rate.api_key, max_tokens=4, timeout=30)
        return at, exchange

    sent = await asyncio.gather(*(one(i) for i in range(count)))
    accepted_at = [at for at, e in sent if e.status == 200]
    refused = [e for _, e in sent if e.status != 200]
    problems = judge_rate(
        accepted_at,
        [(e.status, "retry-after" in e.headers) for e in refused],
        rate.limit,
        rate.period_s,
        rate.periods,
    )
    if problems:
        evidence = next((e for e in refused if "retry-after" not in e.headers), None)
        raise CheckFailed(
            f"{len(accepted_at)} of {count} requests accepted: " + "; ".join(problems),
            evidence or (refused[0] if refused else None),
        )
