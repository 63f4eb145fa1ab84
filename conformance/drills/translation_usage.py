"""Translation drills, part two: how an answer ended and what it counted and cost.

Judged, as in ``translation``, from both ends through the primary's truth ledger:

* ``drills.translation.stop_reason``: each way an answer can end upstream (the turn ends, the
  client's token limit, a stop sequence, a tool call) reaches the client as the
  ``finish_reason`` that says the same, streamed and not; the client's limit and stop
  sequence arrived; and with no limit from the client the gateway's own ``max_tokens`` never
  cuts the answer short (a default below what every Claude model allows).
* ``drills.translation.usage``: the usage the client saw is what the upstream counted, every
  input token in ``prompt_tokens`` (Anthropic counts cache writes and reads apart from
  ``input_tokens``) and cache reads in ``prompt_tokens_details.cached_tokens``; a prompt long
  enough to cache is sent twice, so a gateway that asks for prompt caching is judged on the
  cache counts too.
* ``drills.translation.metering``: the credits reported for those answers (header, or the
  stream's usage chunk) equal the profile's prices x what the upstream counted.

The stop sequence is taken from the text the ledger says was served for the same request, so
no drill depends on the model's words beyond that record.

Must not: leave a fault plan behind.
"""

from __future__ import annotations

import secrets
from typing import Any

from conformance.context import CheckContext
from conformance.drills import DRILLS
from conformance.drills.environment import DrillEnv, credits_in_usage, current, header_credits
from conformance.drills.metering import truth_cost
from conformance.drills.translation import (
    SOURCE,
    TOOL_PROMPT,
    TOOLS,
    client_view,
    exchange_with_truth,
    fail_on,
)
from conformance.drills.translation_verdicts import judge_finish, judge_truncation, judge_usage
from conformance.drills.verdicts import Served, judge_credits
from conformance.registry import check

__all__: list[str] = []

_ENDPOINT = "POST /v1/chat/completions"
_PROMPT = [{"role": "user", "content": "parity drill: describe the harbour at dawn."}]
_LIMIT = 3
_CACHE_WORDS = 1300  # past the 1024-token minimum Anthropic caches ("Prompt caching")


def _stop_word(text: str) -> str | None:
    """A stop sequence the served text contains after its start: its second word."""
    words = [w for w in text.split() if any(ch.isalnum() for ch in w)]
    return words[1][:16] if len(words) >= 2 else None


async def _ending(
    ctx: CheckContext, env: DrillEnv, what: str, body: dict[str, Any], stream: bool
) -> Served:
    """Send ``body``; fail unless the client's finish_reason says the upstream's stop_reason
    (and a stream is well formed). The primary's ledger entry for it."""
    exchange, entry = await exchange_with_truth(ctx, env, {**body, "stream": stream})
    seen = client_view(exchange, stream=stream)
    assert entry.answered is not None
    assert entry.received is not None
    stop = entry.answered.get("stop_reason")
    problems = seen.problems + judge_finish(seen.finish, stop, len(seen.calls))
    if "max_tokens" not in body and "max_completion_tokens" not in body:
        problems += judge_truncation(None, entry.received, stop)
    limit = body.get("max_tokens", body.get("max_completion_tokens"))
    if limit is not None and entry.received.get("max_tokens") != limit:
        problems.append(
            f"the client's limit {limit} arrived as max_tokens {entry.received.get('max_tokens')!r}"
        )
    if body.get("stop") and body["stop"][0] not in (entry.received.get("stop_sequences") or ()):
        problems.append(f"the stop sequence arrived as {entry.received.get('stop_sequences')!r}")
    fail_on(problems, exchange, f"{'streamed ' if stream else ''}{what}")
    return entry


@check(
    "drills.translation.stop_reason",
    area="drills",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="the upstream's stop_reason (turn end, token limit, stop sequence, tool use) "
    "reaches the client as the finish_reason that says the same, streamed and not; the "
    "limit and stop sequence arrive; no default max_tokens cuts an unlimited answer",
    source=SOURCE,
    into=DRILLS,
)
async def check_stop_reason(ctx: CheckContext) -> None:
    env = current()
    await env.warm(ctx)
    tool = {
        "messages": [{"role": "user", "content": TOOL_PROMPT}],
        "tools": TOOLS,
        "tool_choice": "required",
    }
    try:
        for stream in (False, True):
            natural = await _ending(ctx, env, "natural end", {"messages": _PROMPT}, stream)
            field = "max_tokens" if stream else "max_completion_tokens"
            limited = {"messages": _PROMPT, field: _LIMIT}
            await _ending(ctx, env, f"{field}: {_LIMIT}", limited, stream)
            await _ending(ctx, env, "required tool call", tool, stream)
            word = _stop_word(natural.text)
            if word is not None:
                stopped = {"messages": _PROMPT, "stop": [word]}
                await _ending(ctx, env, f"stop {word!r}", stopped, stream)
    finally:
        await env.reset()


def _cache_prompt() -> list[dict[str, Any]]:
    # A fresh prefix each run, so the first request writes the cache and the second reads it.
    nonce = secrets.token_hex(6)
    words = " ".join(f"tide{n}" for n in range(_CACHE_WORDS))
    return [
        {"role": "system", "content": f"parity drill cache prefix {nonce}: {words}"},
        {"role": "user", "content": "parity drill: summarise the tide table."},
    ]


async def _counted(ctx: CheckContext, env: DrillEnv, *, metered: bool) -> None:
    cached = _cache_prompt()
    cases: list[tuple[str, dict[str, Any]]] = [
        ("answer", {"messages": _PROMPT}),
        ("streamed answer", {"messages": _PROMPT, "stream": True}),
        ("long prompt", {"messages": cached}),
        ("long prompt again", {"messages": cached}),
        ("long prompt streamed", {"messages": cached, "stream": True}),
        (
            "tool call",
            {
                "messages": [{"role": "user", "content": TOOL_PROMPT}],
                "tools": TOOLS,
                "tool_choice": "required",
            },
        ),
    ]
    metering = env.profile.metering
    for what, case in cases:
        stream = bool(case.get("stream"))
        body = {**case, "stream_options": {"include_usage": True}} if stream else case
        exchange, entry = await exchange_with_truth(ctx, env, body)
        assert entry.answered is not None
        if not metered:
            seen = client_view(exchange, stream=stream)
            fail_on(judge_usage(seen.usage, entry.answered.get("usage")), exchange, what)
            continue
        reported = credits_in_usage(exchange, metering.usage_field) if stream else None
        if reported is None:
            reported = header_credits(exchange, metering.credits_header)
        expected = truth_cost(env, [entry])
        fail_on(judge_credits(reported, expected, metering.tolerance, what), exchange, "credits")


@check(
    "drills.translation.usage",
    area="drills",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="the usage the client sees equals what the upstream counted: every input token "
    "(cache writes and reads included) in prompt_tokens, cache reads in cached_tokens, "
    "output in completion_tokens (streamed and not)",
    source=SOURCE,
    into=DRILLS,
)
async def check_usage(ctx: CheckContext) -> None:
    env = current()
    await env.warm(ctx)
    try:
        await _counted(ctx, env, metered=False)
    finally:
        await env.reset()


@check(
    "drills.translation.metering",
    area="drills",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="the credits reported for translated answers (cached prompts and tool calls "
    "included) equal the profile's prices x the tokens the upstream counted",
    source=SOURCE,
    into=DRILLS,
)
async def check_metering(ctx: CheckContext) -> None:
    env = current()
    await env.warm(ctx)
    try:
        await _counted(ctx, env, metered=True)
    finally:
        await env.reset()
