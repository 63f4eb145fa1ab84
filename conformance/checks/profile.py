"""Gateway-profile checks: what the target's profile promises beyond OpenAI's API.

Each check reads a promise from the run's :class:`~conformance.profiles.Profile` (aliases, a
default model, a metering header) and skips, with the reason, when the profile makes none. The
promises judged with a role's key (a spent budget, rate limits and their headers, the consume
scope) are in ``promises_keys``; those judged against the catalog's prices and tags in
``promises_catalog``. The built-in ``monday`` profile cites monday.com's
Models API documentation; rate-limit header names follow OpenAI's rate-limits guide
(``x-ratelimit-limit-requests`` and friends).

Must not: apply a rule the profile does not name.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from conformance.checks.verdicts import ok_json, require_ok
from conformance.context import MODELS_LIST_KEY
from conformance.registry import CheckFailed, CheckSkipped, check
from conformance.sse import decode_stream

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__: list[str] = []

_CHAT = "POST /chat/completions"
_SHORT = [{"role": "user", "content": "Say hi."}]
# A long prompt, so its usage (and so its metered cost) clearly exceeds the short one's.
_LONG = [{"role": "user", "content": " ".join(["Summarise the history of the river."] * 120)}]


def _chat(ctx: CheckContext, key: str, body: dict[str, Any], api_key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
    return ctx.shared(
        key, lambda: ctx.client.request("POST", "/chat/completions", json=body, headers=headers)
    )


async def _short_chat(ctx: CheckContext) -> Exchange:
    body = {"model": ctx.model("chat"), "messages": _SHORT, "max_tokens": 8}
    exchange: Exchange = await _chat(ctx, "profile.chat.short", body)
    return exchange


def _credits(exchange: Exchange, header: str) -> float:
    raw = exchange.headers.get(header.lower())
    if raw is None:
        raise CheckFailed(f"the metering header {header!r} is missing", exchange)
    try:
        value = float(raw)
    except ValueError:
        raise CheckFailed(f"{header}: {raw!r} is not a number", exchange) from None
    if not math.isfinite(value) or value < 0:
        raise CheckFailed(f"{header}: {raw!r} must be a finite number >= 0", exchange)
    return value


def _tokens(exchange: Exchange) -> tuple[int, int]:
    """``(prompt_tokens, total_tokens)`` of a completion, which must count a non-empty answer."""
    body = ok_json(exchange, "chat completion")
    usage = body.get("usage")
    prompt = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    total = usage.get("total_tokens") if isinstance(usage, dict) else None
    if type(prompt) is not int or type(total) is not int:
        raise CheckFailed(f"usage.prompt_tokens/total_tokens missing: {usage!r:.100}", exchange)
    choices = body.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else {}
    message = first.get("message") if isinstance(first, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str) and content.strip() and (prompt <= 0 or total <= prompt):
        raise CheckFailed(
            f"usage {usage!r:.100} for the answer {content[:40]!r}: a metered request must "
            "count its prompt and its non-empty answer",
            exchange,
        )
    return prompt, total


@check(
    "profile.aliases.listed",
    area="profile",
    level="smoke",
    endpoint="GET /models",
    asserts="every alias the profile names is listed by GET /models",
    source="gateway profile (monday: developer.monday.com models-api-supported-models)",
)
async def check_profile_aliases_listed(ctx: CheckContext) -> None:
    aliases = ctx.target.profile.aliases
    if not aliases:
        raise CheckSkipped(f"profile {ctx.target.profile.name!r} names no aliases")
    exchange = await ctx.shared(MODELS_LIST_KEY, lambda: ctx.client.request("GET", "/models"))
    data = ok_json(exchange, "GET /models").get("data")
    ids = {m.get("id") for m in data if isinstance(m, dict)} if isinstance(data, list) else set()
    missing = [a for a in aliases if a not in ids]
    if missing:
        raise CheckFailed(f"aliases not listed by GET /models: {missing}", exchange)


@check(
    "profile.aliases.callable",
    area="profile",
    level="standard",
    endpoint=_CHAT,
    asserts="a chat completion through every alias the profile names succeeds",
    source="gateway profile (monday: developer.monday.com models-api-supported-models)",
    capability="chat",
)
async def check_profile_aliases_callable(ctx: CheckContext) -> None:
    aliases = ctx.target.profile.aliases
    if not aliases:
        raise CheckSkipped(f"profile {ctx.target.profile.name!r} names no aliases")
    for alias in aliases:
        body = {"model": alias, "messages": _SHORT, "max_tokens": 8}
        exchange = await _chat(ctx, f"profile.alias.{alias}", body)
        choices = ok_json(exchange, f"chat through alias {alias!r}").get("choices")
        if not isinstance(choices, list) or not choices:
            raise CheckFailed(f"alias {alias!r} answered no choices", exchange)


@check(
    "profile.default_model.served",
    area="profile",
    level="standard",
    endpoint=_CHAT,
    asserts="a chat completion without `model` is served by the profile's default alias",
    source="gateway profile (monday: 'monday-standard is the default when you omit model')",
    capability="chat",
)
async def check_profile_default_model_served(ctx: CheckContext) -> None:
    default = ctx.target.profile.default_model
    if default is None:
        raise CheckSkipped(f"profile {ctx.target.profile.name!r} names no default model")
    omitted = await _chat(ctx, "profile.default.omitted", {"messages": _SHORT, "max_tokens": 8})
    served = ok_json(omitted, "chat without model").get("model")
    if served == default:
        return
    explicit = await _chat(
        ctx, f"profile.alias.{default}", {"model": default, "messages": _SHORT, "max_tokens": 8}
    )
    # A gateway may answer with the resolved model instead of the alias: then both agree.
    if served != ok_json(explicit, f"chat through {default!r}").get("model"):
        raise CheckFailed(
            f"without `model` the answer came from {served!r}, not the default {default!r}",
            omitted,
        )


@check(
    "profile.credits.header",
    area="profile",
    level="smoke",
    endpoint=_CHAT,
    asserts="every billable non-stream response (chat, and embeddings where offered) carries "
    "the profile's metering header as a number >= 0",
    source="gateway profile (monday: 'read response headers such as x-monday-credits-used')",
    capability="chat",
)
async def check_profile_credits_header(ctx: CheckContext) -> None:
    header = ctx.target.profile.credits_header
    if header is None:
        raise CheckSkipped(f"profile {ctx.target.profile.name!r} names no metering header")
    exchange = await _short_chat(ctx)
    require_ok(exchange, "chat completion")
    _credits(exchange, header)
    if "embedding" in ctx.target.models:
        body = {"model": ctx.model("embedding"), "input": "metered", "encoding_format": "float"}
        embedded = await ctx.shared(
            "profile.embedding", lambda: ctx.client.request("POST", "/embeddings", json=body)
        )
        require_ok(embedded, "embeddings request")
        _credits(embedded, header)


@check(
    "profile.credits.consistent",
    area="profile",
    level="standard",
    endpoint=_CHAT,
    asserts="usage counts what a request used (prompt_tokens > 0, completion_tokens > 0 for a "
    "non-empty answer, more prompt_tokens for a much longer prompt), and the request using "
    "more tokens is metered with more credits",
    source="gateway profile (monday: usage draws down tokens approximating provider cost); "
    "OpenAI OpenAPI spec: CompletionUsage",
    capability="chat",
)
async def check_profile_credits_consistent(ctx: CheckContext) -> None:
    header = ctx.target.profile.credits_header
    if header is None:
        raise CheckSkipped(f"profile {ctx.target.profile.name!r} names no metering header")
    short = await _short_chat(ctx)
    body = {"model": ctx.model("chat"), "messages": _LONG, "max_tokens": 64}
    long = await _chat(ctx, "profile.chat.long", body)
    (short_prompt, short_tokens), (long_prompt, long_tokens) = _tokens(short), _tokens(long)
    if long_prompt <= short_prompt:
        raise CheckFailed(
            f"a prompt 120 times longer reports {long_prompt} prompt_tokens, the short one "
            f"{short_prompt}: usage (and so metering) does not count the input",
            long,
        )
    if header.lower() not in short.headers or header.lower() not in long.headers:
        raise CheckSkipped(f"no {header} header to compare (profile.credits.header judges that)")
    short_credits, long_credits = _credits(short, header), _credits(long, header)
    if long_tokens > short_tokens and not long_credits > short_credits:
        raise CheckFailed(
            f"{long_tokens} tokens cost {long_credits} credits, {short_tokens} tokens cost "
            f"{short_credits}: more tokens must cost more",
            long,
        )


@check(
    "profile.usage.stream",
    area="profile",
    level="standard",
    endpoint=_CHAT,
    asserts="a metered gateway reports usage on streams: include_usage gives a final chunk "
    "with prompt and completion tokens",
    source="OpenAI API reference: stream_options.include_usage; gateway profile (metering)",
    capability="chat",
)
async def check_profile_usage_stream(ctx: CheckContext) -> None:
    if ctx.target.profile.credits_header is None:
        raise CheckSkipped(f"profile {ctx.target.profile.name!r} meters nothing")
    body = {
        "model": ctx.model("chat"),
        "messages": _SHORT,
        "max_tokens": 8,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    exchange = await _chat(ctx, "profile.stream.usage", body)
    require_ok(exchange, "streamed chat completion")
    usage = None
    for timed in decode_stream(exchange).events:
        if timed.event.data.strip() == "[DONE]":
            continue
        try:
            chunk = json.loads(timed.event.data)
        except ValueError:
            continue
        if isinstance(chunk, dict) and isinstance(chunk.get("usage"), dict):
            usage = chunk["usage"]
    if usage is None:
        raise CheckFailed("no chunk of the stream carries usage", exchange)
    for name in ("prompt_tokens", "completion_tokens"):
        if not isinstance(usage.get(name), int) or usage[name] < 0:
            raise CheckFailed(f"the stream's usage.{name} is {usage.get(name)!r}", exchange)
