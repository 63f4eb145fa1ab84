"""Chat Completions request parameters: token caps, ``n``, ``stop``, roles, content parts and
unknown parameters, each judged by its effect on a non-streamed answer.

Triggers never depend on the model's text: ``stop`` is picked from what the target itself wrote
to the basic request. A clean 400 refusing a parameter OpenAI documents as unsupported by some
of its own models (``max_tokens``, ``stop``) is a warning; refusing ``n`` fails unless the
profile declares ``chat.n`` unsupported.

Must not: judge the basic completion's shape (``chat.py``), tools or output formats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.checks.chat import CHAT, OWN, basic_body, basic_completion, completion_json
from conformance.checks.verdicts import refused_documented
from conformance.registry import CheckFailed, CheckSkipped, CheckWarning, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__: list[str] = []


def _refuses(exchange: Exchange, parameter: str) -> bool:
    """A 400 OpenAI error naming ``parameter`` (``param``, or quoted in the message)."""
    if exchange.status != 400:
        return False
    try:
        error = exchange.json().get("error")
    except (ValueError, AttributeError):
        return False
    if not isinstance(error, dict):
        return False
    message = error.get("message")
    return error.get("param") == parameter or (
        isinstance(message, str) and f"'{parameter}'" in message
    )


def _choices(body: dict[str, Any]) -> list[dict[str, Any]]:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise CheckSkipped("the answer has no choices; see chat.completion.shape")
    return [c for c in choices if isinstance(c, dict)]


async def _capped(ctx: CheckContext, parameter: str) -> None:
    cap = 5
    model = ctx.model("chat")
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "Write a long story about the sea."}],
        parameter: cap,
    }
    exchange = await ctx.shared(
        f"chat.capped.{parameter}", lambda: ctx.client.request("POST", CHAT, json=body)
    )
    if parameter == "max_tokens" and _refuses(exchange, "max_tokens"):
        # The spec: max_tokens "is now deprecated in favor of max_completion_tokens, and is not
        # compatible with o-series models"; OpenAI refuses it for those with a 400.
        raise CheckWarning("the model refuses the deprecated max_tokens with 400", exchange)
    if exchange.status != 200:
        raise CheckFailed(
            f"{parameter}={cap} was refused: {exchange.status} {exchange.text[:200]!r}", exchange
        )
    payload = completion_json(exchange, judged_by=OWN)
    choice = _choices(payload)[0]
    usage = payload.get("usage")
    tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
    reason = choice.get("finish_reason")
    if type(tokens) is int and tokens > cap:
        raise CheckFailed(f"{parameter}={cap} but completion_tokens is {tokens}", exchange)
    if reason == "length":
        return
    if type(tokens) is int and tokens < cap and reason == "stop":
        # Legal, and it leaves the cap untested: nothing to judge.
        raise CheckSkipped(
            f"the model stopped by itself after {tokens} tokens (finish_reason 'stop'); "
            "the cap was not reached, so it could not be judged"
        )
    raise CheckFailed(
        f"{parameter}={cap} with a long answer: finish_reason is {reason!r} "
        f"(completion_tokens {tokens!r}), expected 'length'",
        exchange,
    )


@check(
    "chat.params.max_tokens",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="`max_tokens: 5` on a long answer ends with finish_reason `length` and at most "
    "5 completion tokens (a 400 naming the deprecated parameter is a warning).",
    source="OpenAI OpenAPI spec: CreateChatCompletionRequest.max_tokens; "
    "CreateChatCompletionResponse finish_reason 'length' ('the maximum number of tokens "
    "specified in the request was reached')",
    capability="chat",
)
async def check_max_tokens(ctx: CheckContext) -> None:
    await _capped(ctx, "max_tokens")


@check(
    "chat.params.max_completion_tokens",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="`max_completion_tokens: 5` on a long answer ends with finish_reason `length` "
    "and at most 5 completion tokens.",
    source="OpenAI OpenAPI spec: CreateChatCompletionRequest.max_completion_tokens ('an upper "
    "bound for the number of tokens that can be generated')",
    capability="chat",
)
async def check_max_completion_tokens(ctx: CheckContext) -> None:
    await _capped(ctx, "max_completion_tokens")


@check(
    "chat.params.n",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="`n: 2` returns exactly two choices with indices 0 and 1 (refusing `n` fails, "
    "skipped if the profile declares `chat.n` unsupported).",
    source="OpenAI OpenAPI spec: CreateChatCompletionRequest.n ('How many chat completion "
    "choices to generate for each input message')",
    capability="chat",
)
async def check_n(ctx: CheckContext) -> None:
    body = basic_body(ctx.model("chat"), n=2, max_completion_tokens=8)
    exchange = await ctx.shared("chat.n", lambda: ctx.client.request("POST", CHAT, json=body))
    if exchange.status == 400:
        refused_documented(ctx, "chat.n", exchange, "n=2")
    if exchange.status != 200:
        raise CheckFailed(f"n=2 got {exchange.status} {exchange.text[:200]!r}", exchange)
    payload = completion_json(exchange, judged_by=OWN)
    choices = payload.get("choices")
    indexes: list[int] = sorted(
        c["index"] for c in choices or [] if isinstance(c, dict) and type(c.get("index")) is int
    )
    if not isinstance(choices, list) or len(choices) != 2 or indexes != [0, 1]:
        count = len(choices) if isinstance(choices, list) else choices
        raise CheckFailed(f"n=2 gave {count!r} choices with indices {indexes}", exchange)


def _stop_sequence(text: str) -> str | None:
    """A stop sequence the target's own text contains after its start: the second word (at
    most 16 characters), or for text without spaces its middle two characters."""
    words = text.split()
    if len(words) >= 2:
        return words[1][:16]
    text = text.strip()
    if len(text) < 4:
        return None
    middle = len(text) // 2
    return text[middle : middle + 2]


def _content(payload: dict[str, Any]) -> Any:
    message = _choices(payload)[0].get("message")
    return message.get("content") if isinstance(message, dict) else None


@check(
    "chat.params.stop",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="Asked again with `stop` set to a word of the target's own answer to the basic "
    "request, the content does not contain it and finish_reason is `stop` (or `length`); a "
    "400 naming `stop` is a warning.",
    source="OpenAI OpenAPI spec: CreateChatCompletionRequest.stop ('sequences where the API "
    "will stop generating further tokens. The returned text will not contain the stop "
    "sequence.' 'Not supported with latest reasoning models o3 and o4-mini.')",
    capability="chat",
)
async def check_stop(ctx: CheckContext) -> None:
    first = await basic_completion(ctx)
    written = _content(completion_json(first))
    stop = _stop_sequence(written) if isinstance(written, str) else None
    if stop is None:
        raise CheckSkipped(
            f"the basic answer holds no text to pick a stop sequence from: {written!r:.60}"
        )
    body = basic_body(ctx.model("chat"), stop=[stop])
    exchange = await ctx.shared("chat.stop", lambda: ctx.client.request("POST", CHAT, json=body))
    if _refuses(exchange, "stop"):
        # The spec: stop is "not supported with latest reasoning models o3 and o4-mini".
        raise CheckWarning("the model refuses `stop` with 400", exchange)
    if exchange.status != 200:
        raise CheckFailed(f"stop was refused: {exchange.status} {exchange.text[:200]!r}", exchange)
    payload = completion_json(exchange, judged_by=OWN)
    content = _content(payload)
    if isinstance(content, str) and stop in content:
        raise CheckFailed(
            f"stop {stop!r} (picked from the target's own answer) is in the content: "
            f"{content[:120]!r}",
            exchange,
        )
    reason = _choices(payload)[0].get("finish_reason")
    if reason not in ("stop", "length"):
        raise CheckFailed(f"finish_reason is {reason!r}, expected 'stop'", exchange)


async def _accepted(ctx: CheckContext, key: str, body: dict[str, Any], what: str) -> None:
    exchange = await ctx.shared(key, lambda: ctx.client.request("POST", CHAT, json=body))
    if exchange.status != 200:
        raise CheckFailed(f"{what}: got {exchange.status} {exchange.text[:200]!r}", exchange)
    _choices(completion_json(exchange, judged_by=OWN))


@check(
    "chat.params.developer_role",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="A `developer` message (with a `system` one and a user message) is accepted.",
    source="OpenAI OpenAPI spec: ChatCompletionRequestDeveloperMessage (role 'developer')",
    capability="chat",
)
async def check_developer_role(ctx: CheckContext) -> None:
    body = basic_body(ctx.model("chat"), max_completion_tokens=8)
    body["messages"] = [
        {"role": "developer", "content": "Answer with one word."},
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello."},
    ]
    await _accepted(ctx, "chat.developer", body, "a developer message was refused")


@check(
    "chat.params.content_parts",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="Message `content` given as an array of text parts is accepted (user and system).",
    source="OpenAI OpenAPI spec: ChatCompletionRequestUserMessage.content (string or array "
    "of ChatCompletionRequestUserMessageContentPart)",
    capability="chat",
)
async def check_content_parts(ctx: CheckContext) -> None:
    body = basic_body(ctx.model("chat"), max_completion_tokens=8)
    body["messages"] = [
        {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
        {"role": "user", "content": [{"type": "text", "text": "Say hello."}]},
    ]
    await _accepted(ctx, "chat.parts", body, "content as an array of text parts was refused")


@check(
    "chat.params.unknown_tolerated",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="An unknown top-level parameter is ignored (200) or refused as a 400 OpenAI error "
    "(as OpenAI does); never a 422, a 5xx or a non-JSON answer.",
    source="OpenAI API reference, Error codes: 400 invalid_request_error ('Unrecognized "
    "request argument supplied'); openai-python sends `extra_body` fields as top-level keys",
    capability="chat",
)
async def check_unknown_tolerated(ctx: CheckContext) -> None:
    body = basic_body(ctx.model("chat"), max_completion_tokens=8, x_parity_probe={"vendor": True})
    exchange = await ctx.shared("chat.unknown", lambda: ctx.client.request("POST", CHAT, json=body))
    if exchange.status == 200:
        return
    if exchange.status == 400:
        try:
            error = exchange.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if isinstance(error, dict):
            return  # OpenAI itself refuses it: "Unrecognized request argument supplied"
    raise CheckFailed(
        f"an unknown parameter got {exchange.status} {exchange.text[:200]!r}; expected 200 "
        "or a 400 OpenAI error object",
        exchange,
    )


@check(
    "chat.params.stream_false",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="`stream: false`, even with an `Accept: text/event-stream` header, is answered "
    "with one JSON completion, not an event stream.",
    source="OpenAI OpenAPI spec: CreateChatCompletionRequest.stream ('If set to true, the "
    "model response data will be streamed'); the body decides, not the Accept header",
    capability="chat",
)
async def check_stream_false(ctx: CheckContext) -> None:
    body = basic_body(ctx.model("chat"), stream=False, max_completion_tokens=8)
    exchange = await ctx.shared(
        "chat.stream_false",
        lambda: ctx.client.request(
            "POST", CHAT, json=body, headers={"accept": "text/event-stream"}
        ),
    )
    # The header itself is chat.completion.content_type's; this check judges the body.
    if exchange.status == 200 and exchange.body.lstrip().startswith((b"data:", b"event:")):
        raise CheckFailed(
            f"stream false answered with an event stream "
            f"({exchange.headers.get('content-type')!r}): {exchange.text[:120]!r}",
            exchange,
        )
    _choices(completion_json(exchange, judged_by=OWN))
