"""Metering drills: the credits a gateway reports equal the profile's price x the tokens the
upstream's truth ledger says it served.

Non-stream answers report credits in a header (the profile's ``credits_header``, by default
monday's ``x-monday-credits-used``); streams in their usage chunk (``usage_field``), because
headers leave before usage is known. With a fallback only the answering upstream is billed,
at its own price. A partial stream is billed for what was delivered; the client never sees that
charge, so this drill reads the gateway's spend endpoint when the profile names one.

Must not: leave a fault plan behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal

import httpx

from conformance.context import CheckContext
from conformance.drills import DRILLS
from conformance.drills.environment import DrillEnv, credits_in_usage, current, header_credits
from conformance.drills.profile import SpendEndpoint
from conformance.drills.translation_verdicts import ledger_usage, served_cost
from conformance.drills.verdicts import Served, judge_credits
from conformance.exchange import Exchange
from conformance.registry import CheckFailed, CheckSkipped, check

__all__: list[str] = []

_SOURCE = (
    "monday.com Models API docs (x-monday-credits-used; credits approximate provider cost); "
    "OpenAI API reference, chat completion 'usage' object; spec/PROVENANCE.md, 'Gateway drills' 3"
)


def truth_cost(env: DrillEnv, served: Sequence[Served]) -> Decimal:
    """What the served tokens cost at the profile's price of the upstream that served them
    (prompt-cache tokens at the route's cache prices, where it names them and the ledger
    counts them)."""
    total = Decimal(0)
    for entry in served:
        if entry.prompt_tokens == 0 and entry.completion_tokens == 0:
            continue
        route = env.route_of(entry.upstream)
        total += served_cost(ledger_usage(entry), route, env.profile.metering.surcharge_rate)
    return total


def _judge(
    env: DrillEnv, exchange: Exchange, reported: Decimal | None, served: list[Served], what: str
) -> None:
    if exchange.status != 200:
        raise CheckFailed(f"{what}: status {exchange.status!r}, expected an answer", exchange)
    if not any(s.completed for s in served):
        raise CheckFailed(f"{what}: no upstream completed an answer", exchange)
    problems = judge_credits(
        reported, truth_cost(env, served), env.profile.metering.tolerance, what
    )
    if problems:
        raise CheckFailed("; ".join(problems), exchange)


@check(
    "drills.metering.non_stream",
    area="drills",
    level="standard",
    endpoint="POST /v1/chat/completions",
    asserts="the credits header equals price x the tokens the upstream served",
    source=_SOURCE,
    into=DRILLS,
)
async def check_non_stream(ctx: CheckContext) -> None:
    env = current()
    marks = await env.reset()
    exchange, _ = await env.chat(ctx, timeout=30)
    served = await env.served(marks)
    reported = header_credits(exchange, env.profile.metering.credits_header)
    _judge(env, exchange, reported, served, "non-stream answer")


@check(
    "drills.metering.stream",
    area="drills",
    level="standard",
    endpoint="POST /v1/chat/completions (stream)",
    asserts="the stream's usage credits (or the credits header) equal price x the tokens the "
    "upstream served",
    source=_SOURCE,
    into=DRILLS,
)
async def check_stream(ctx: CheckContext) -> None:
    env = current()
    marks = await env.reset()
    exchange, _ = await env.chat(ctx, stream=True, timeout=30)
    served = await env.served(marks)
    metering = env.profile.metering
    reported = credits_in_usage(exchange, metering.usage_field)
    if reported is None:
        reported = header_credits(exchange, metering.credits_header)
    _judge(env, exchange, reported, served, "streamed answer")


@check(
    "drills.metering.fallback",
    area="drills",
    level="standard",
    endpoint="POST /v1/chat/completions",
    asserts="after the primary fails, only the answering fallback is billed, at its own price",
    source=_SOURCE,
    into=DRILLS,
)
async def check_fallback(ctx: CheckContext) -> None:
    env = current()
    await env.warm(ctx)
    marks = await env.reset()
    await env.primary.fault("status", status=503, count=1)
    try:
        exchange, _ = await env.chat(ctx, timeout=30)
        served = await env.served(marks)
    finally:
        await env.reset()
    if exchange.status != 200:
        # No answer, nothing to bill: drills.fallback.primary_5xx judges the missing fallback.
        raise CheckSkipped(f"the gateway did not fall back (status {exchange.status!r})")
    reported = header_credits(exchange, env.profile.metering.credits_header)
    _judge(env, exchange, reported, served, "fallback answer")


async def _spent(spend: SpendEndpoint) -> Decimal:
    headers = {"authorization": f"Bearer {spend.admin_key}"} if spend.admin_key else {}
    async with httpx.AsyncClient(timeout=10) as http:
        try:
            response = await http.get(spend.url, headers=headers)
            value = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise CheckFailed(
                f"the spend endpoint {spend.url} did not answer JSON: {type(exc).__name__}"
            ) from None
    if response.status_code != 200 or not isinstance(value, dict) or spend.value_field not in value:
        raise CheckFailed(
            f"the spend endpoint {spend.url} answered {response.status_code} without "
            f"field {spend.value_field!r}"
        )
    return Decimal(str(value[spend.value_field]))


@check(
    "drills.metering.partial_stream",
    area="drills",
    level="standard",
    endpoint="POST /v1/chat/completions (stream)",
    asserts="a stream cut by the primary is billed for exactly what was delivered (read from "
    "the gateway's spend endpoint)",
    source=_SOURCE,
    into=DRILLS,
)
async def check_partial_stream(ctx: CheckContext) -> None:
    env = current()
    spend = env.profile.metering.spend
    if spend is None:
        raise CheckSkipped("the profile names no spend endpoint (metering.spend)")
    await env.warm(ctx)
    before = await _spent(spend)
    marks = await env.reset()
    await env.primary.fault("disconnect", count=1, after_chunks=4)
    try:
        exchange, _ = await env.chat(ctx, stream=True, timeout=30)
        served = await env.served(marks)
    finally:
        await env.reset()
    if not any(s.fault == "disconnect" for s in served):
        raise CheckFailed("the primary never served the stream that was to be cut", exchange)
    # Settling may trail the client's view of the cut by a moment.
    charged = Decimal(0)
    for _ in range(20):
        charged = await _spent(spend) - before
        if charged:
            break
        await asyncio.sleep(0.05)
    problems = judge_credits(
        charged, truth_cost(env, served), env.profile.metering.tolerance, "partial stream"
    )
    if problems:
        raise CheckFailed("; ".join(problems), exchange)
