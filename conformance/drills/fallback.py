"""Fallback drills: the primary fails before its first byte (5xx, 429, reset, stall), or every
upstream is down.

A gateway with a fallback promises that "clients are not impacted": the client gets one normal
answer from the fallback, with no error and no duplicated output, within a bounded added latency
(the profile's ``fallback_added_s`` over a healthy answer). A stalled primary must be timed out
(the profile's ``upstream_s``) and either fall back or answer a timely OpenAI error. With every
deployment down the client gets OpenAI's error object with a 5xx status, quickly (OpenAI's own
overload answer is a 503 error object: API reference, "Error codes").

Must not: leave a fault plan behind (every drill clears the upstreams when it ends).
"""

from __future__ import annotations

from typing import Any

from conformance.context import CheckContext
from conformance.drills import DRILLS
from conformance.drills.environment import (
    answer_text,
    client_stream,
    current,
    is_error_object,
)
from conformance.drills.verdicts import judge_all_down, judge_fallback
from conformance.registry import CheckFailed, check

__all__: list[str] = []

_ENDPOINT = "POST /v1/chat/completions"
_SOURCE = (
    "OpenAI API reference, 'Error codes' (429 and 5xx are retryable server-side failures) and "
    "'Streaming' (an answer ends with data: [DONE]); spec/PROVENANCE.md, 'Gateway drills' 1"
)


async def _drill(ctx: CheckContext, kind: str, *, stream: bool = False, **options: Any) -> None:
    env = current()
    baseline = await env.warm(ctx, stream=stream)
    marks = await env.reset()
    await env.primary.fault(kind, count=1, **options)
    timeouts = env.profile.timeouts
    bound = baseline + timeouts.fallback_added_s
    if kind == "stall":
        bound += timeouts.upstream_s
    try:
        exchange, elapsed = await env.chat(ctx, stream=stream, timeout=bound + 5)
        served = await env.served(marks)
    finally:
        await env.reset()
    if not any(s.upstream == env.primary.name and s.fault == kind for s in served):
        raise CheckFailed(
            f"the primary upstream {env.primary.name!r} never saw the request: the gateway does "
            "not route this model to it first, as the profile says",
            exchange,
        )
    if (
        kind == "stall"
        and exchange.status is not None
        and exchange.status >= 500
        and is_error_object(exchange)
        and elapsed <= bound
    ):
        return  # a timely OpenAI error is the other legal outcome of a stalled primary
    if stream:
        seen = client_stream(exchange)
        text: str | None = seen.text
        extra = []
        if not seen.done:
            extra.append("the stream did not end with [DONE]")
        if seen.errors:
            extra.append(f"the stream carried {seen.errors} error event(s)")
    else:
        text, extra = answer_text(exchange), []
        if exchange.status == 200 and text is None:
            extra.append("the 200 answer is not a chat completion with message content")
    problems = judge_fallback(exchange.status, text, served, elapsed, bound) + extra
    if problems:
        raise CheckFailed("; ".join(problems), exchange)


@check(
    "drills.fallback.primary_5xx",
    area="drills",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="the primary answers 503: the client gets the fallback's answer, whole and in time",
    source=_SOURCE,
    into=DRILLS,
)
async def check_primary_5xx(ctx: CheckContext) -> None:
    await _drill(ctx, "status", status=503)


@check(
    "drills.fallback.primary_429",
    area="drills",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="the primary answers 429 with Retry-After: the client gets a normal answer in time",
    source=_SOURCE,
    into=DRILLS,
)
async def check_primary_429(ctx: CheckContext) -> None:
    await _drill(ctx, "status", status=429, retry_after_s=1)


@check(
    "drills.fallback.primary_reset",
    area="drills",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="the primary resets the connection before the first byte of a stream: the client "
    "gets the fallback's whole stream, ending with [DONE]",
    source=_SOURCE,
    into=DRILLS,
)
async def check_primary_reset(ctx: CheckContext) -> None:
    await _drill(ctx, "reset", stream=True)


@check(
    "drills.fallback.primary_stall",
    area="drills",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="the primary sends nothing: the gateway times out within the profile's timeout and "
    "falls back (or answers a timely OpenAI 5xx error); the client never hangs",
    source=_SOURCE,
    into=DRILLS,
)
async def check_primary_stall(ctx: CheckContext) -> None:
    timeouts = current().profile.timeouts
    delay = int((timeouts.upstream_s + timeouts.fallback_added_s + 1) * 1000)
    await _drill(ctx, "stall", delay_ms=min(delay, 60_000))


@check(
    "drills.fallback.all_down",
    area="drills",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="every upstream answers 503: the client gets OpenAI's error object with a 5xx "
    "status within the profile's all_down_s",
    source=_SOURCE,
    into=DRILLS,
)
async def check_all_down(ctx: CheckContext) -> None:
    env = current()
    bound = env.profile.timeouts.all_down_s
    await env.reset()
    for control in env.upstreams.values():
        await control.fault("status", status=503)
    try:
        exchange, elapsed = await env.chat(ctx, timeout=bound + 2)
    finally:
        await env.reset()
    hung = exchange.status is None and elapsed >= bound
    problems = judge_all_down(exchange.status, is_error_object(exchange), elapsed, bound, hung)
    if problems:
        raise CheckFailed("; ".join(problems), exchange)
