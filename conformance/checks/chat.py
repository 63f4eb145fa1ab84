"""Chat Completions, non-streaming: the basic completion object, its `created` and its usage.

Also owns the shared chat probes other chat modules judge (one basic completion, one streamed
completion with usage, one without), so ``--level smoke`` spends a handful of requests.
Every rule holds for any correct model: structure, counts, finish reasons and JSON validity,
never exact text.

Must not: judge streams (``chat_stream.py``, ``sse.py``), request parameters
(``chat_params.py``), tools (``chat_tools.py``) or output formats (``chat_format.py``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, NoReturn

from conformance.registry import CheckFailed, CheckSkipped, check
from conformance.streams import FINISH_REASONS, usage_arithmetic

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__ = [
    "CHAT",
    "OWN",
    "basic_body",
    "basic_completion",
    "completion_json",
    "created_problem",
    "plain_stream",
    "usage_stream",
]

CHAT = "/chat/completions"
_SPEC = "OpenAI OpenAPI spec, POST /chat/completions (createChatCompletion)"
PROMPT = "Count from 1 to 40, separated by spaces."
MAX_TOKENS = 24
_DAY = 86_400


def basic_body(model: str, **extra: Any) -> dict[str, Any]:
    """The basic request every shared chat probe varies."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_completion_tokens": MAX_TOKENS,
    }
    body.update(extra)
    return body


async def basic_completion(ctx: CheckContext) -> Exchange:
    model = ctx.model("chat")
    return await ctx.shared(
        "chat.basic", lambda: ctx.client.request("POST", CHAT, json=basic_body(model))
    )


async def usage_stream(ctx: CheckContext) -> Exchange:
    """The basic request streamed with ``stream_options.include_usage``."""
    model = ctx.model("chat")
    body = basic_body(model, stream=True, stream_options={"include_usage": True})
    return await ctx.shared(
        "chat.stream.usage", lambda: ctx.client.request("POST", CHAT, json=body)
    )


async def plain_stream(ctx: CheckContext) -> Exchange:
    """The basic request streamed without ``stream_options`` (and a longer answer)."""
    model = ctx.model("chat")
    body = basic_body(model, stream=True, max_completion_tokens=48)
    return await ctx.shared(
        "chat.stream.plain", lambda: ctx.client.request("POST", CHAT, json=body)
    )


OWN = "this check's request"


def completion_json(exchange: Exchange, *, judged_by: str = "chat.completion.accepted") -> Any:
    """The body of a successful JSON answer.

    Otherwise a skip naming the check that judges why not, or, when ``judged_by`` is
    :data:`OWN` (the calling check owns the request), a failure.
    """

    def stop(reason: str) -> NoReturn:
        if judged_by == OWN:
            raise CheckFailed(reason, exchange)
        raise CheckSkipped(f"{reason}; see {judged_by}")

    if exchange.status != 200:
        stop(
            f"the request did not succeed (status {exchange.status}, "
            f"{exchange.error or exchange.text[:120]!r})"
        )
    try:
        body = exchange.json()
    except ValueError as exc:
        stop(f"the answer is not JSON ({exc})")
    if not isinstance(body, dict):
        stop(f"the answer is {type(body).__name__}, not an object")
    return body


def created_problem(value: Any, *, recent: bool = True) -> str | None:
    """``created`` is a Unix timestamp in seconds: an integer, not milliseconds, not a string.

    ``None`` (absent) is no problem here: presence is the shape and schema checks' rule.
    """
    if value is None:
        return None
    if type(value) is not int:
        return f"created is {value!r} ({type(value).__name__}), not an integer"
    now = time.time()
    if value >= 10**11:
        return f"created {value} looks like milliseconds, not seconds"
    if value > now + _DAY:
        return f"created {value} is in the future"
    if recent and abs(now - value) > _DAY:
        return f"created {value} is more than a day from now ({int(now)})"
    return None


@check(
    "chat.completion.accepted",
    area="chat",
    level="smoke",
    endpoint=CHAT,
    asserts="A minimal chat completion request (model, one user message, max_completion_tokens) "
    "is answered with HTTP 200.",
    source=f"{_SPEC}: responses.200",
    capability="chat",
)
async def check_completion_accepted(ctx: CheckContext) -> None:
    exchange = await basic_completion(ctx)
    if exchange.status != 200:
        raise CheckFailed(
            f"expected 200, got {exchange.status} {exchange.error or exchange.text[:200]!r}",
            exchange,
        )


@check(
    "chat.completion.content_type",
    area="chat",
    level="smoke",
    endpoint=CHAT,
    asserts="Without `stream`, the answer is `application/json` and one JSON document "
    "(not an SSE stream, no trailing `data: [DONE]`).",
    source=f"{_SPEC}: responses.200.content application/json; CreateChatCompletionRequest.stream "
    "defaults to false",
    capability="chat",
)
async def check_completion_content_type(ctx: CheckContext) -> None:
    exchange = await basic_completion(ctx)
    if exchange.status != 200:
        raise CheckSkipped("the request did not succeed; see chat.completion.accepted")
    if exchange.content_type != "application/json":
        raise CheckFailed(
            f"content-type is {exchange.headers.get('content-type')!r}, expected application/json",
            exchange,
        )
    try:
        exchange.json()
    except ValueError as exc:
        raise CheckFailed(str(exc), exchange) from None


@check(
    "chat.completion.shape",
    area="chat",
    level="smoke",
    endpoint=CHAT,
    asserts="The completion has a non-empty string `id`, `object: chat.completion`, a string "
    "`model`, a `created`, and choices with integer `index`, an assistant `message` whose `content` is a "
    "string or null, and a `finish_reason` from the spec's enum.",
    source="OpenAI OpenAPI spec: CreateChatCompletionResponse (required id, choices, created, "
    "model, object)",
    capability="chat",
)
async def check_completion_shape(ctx: CheckContext) -> None:
    exchange = await basic_completion(ctx)
    if exchange.status == 200:
        try:
            parsed = exchange.json()
        except ValueError:
            parsed = None  # judged by chat.completion.content_type
        if parsed is not None and not isinstance(parsed, dict):
            raise CheckFailed(
                f"the completion is a {type(parsed).__name__}, not an object", exchange
            )
    body = completion_json(exchange)
    problems: list[str] = []
    if not isinstance(body.get("id"), str) or not body["id"]:
        problems.append(f"id is {body.get('id')!r}")
    if body.get("object") != "chat.completion":
        problems.append(f"object is {body.get('object')!r}, expected 'chat.completion'")
    if not isinstance(body.get("model"), str) or not body["model"]:
        problems.append(f"model is {body.get('model')!r}")
    if "created" not in body:
        problems.append("created is absent")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        problems.append(f"choices is {choices!r}, expected a non-empty list")
        choices = []
    for position, choice in enumerate(choices):
        if not isinstance(choice, dict):
            problems.append(f"choices[{position}] is {choice!r}")
            continue
        if type(choice.get("index")) is not int:
            problems.append(f"choices[{position}].index is {choice.get('index')!r}")
        message = choice.get("message")
        if not isinstance(message, dict):
            problems.append(f"choices[{position}].message is {message!r}")
        else:
            if message.get("role") != "assistant":
                problems.append(f"choices[{position}].message.role is {message.get('role')!r}")
            if "content" not in message or not isinstance(message["content"], str | None):
                problems.append(
                    f"choices[{position}].message.content is {message.get('content', '<absent>')!r}"
                )
        if choice.get("finish_reason") not in FINISH_REASONS:
            problems.append(
                f"choices[{position}].finish_reason is {choice.get('finish_reason')!r}, "
                f"not one of {sorted(FINISH_REASONS)}"
            )
    if problems:
        raise CheckFailed("; ".join(problems[:6]), exchange)


@check(
    "chat.completion.created_seconds",
    area="chat",
    level="smoke",
    endpoint=CHAT,
    asserts="`created` is an integer Unix timestamp in seconds (not milliseconds, not a "
    "string or float), within a day of now.",
    source="OpenAI OpenAPI spec: CreateChatCompletionResponse.created ('The Unix timestamp "
    "(in seconds) of when the chat completion was created', type integer)",
    capability="chat",
)
async def check_completion_created(ctx: CheckContext) -> None:
    exchange = await basic_completion(ctx)
    problem = created_problem(completion_json(exchange).get("created"))
    if problem:
        raise CheckFailed(problem, exchange)


@check(
    "chat.completion.usage",
    area="chat",
    level="smoke",
    endpoint=CHAT,
    asserts="`usage` has non-negative integer prompt, completion and total token counts, "
    "and total = prompt + completion.",
    source="OpenAI OpenAPI spec: CompletionUsage (required prompt_tokens, completion_tokens, "
    "total_tokens)",
    capability="chat",
)
async def check_completion_usage(ctx: CheckContext) -> None:
    exchange = await basic_completion(ctx)
    problems = usage_arithmetic(completion_json(exchange).get("usage"))
    if problems:
        raise CheckFailed("; ".join(problems), exchange)


@check(
    "chat.completion.schema",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="The completion validates against the spec's CreateChatCompletionResponse schema.",
    source="OpenAI OpenAPI spec: components.schemas.CreateChatCompletionResponse",
    capability="chat",
)
async def check_completion_schema(ctx: CheckContext) -> None:
    from conformance.schemas import schema_errors

    exchange = await basic_completion(ctx)
    errors = schema_errors("CreateChatCompletionResponse", completion_json(exchange))
    if errors:
        raise CheckFailed("; ".join(errors[:5]), exchange)


# Twenty times the basic prompt: more prompt tokens under any tokenizer.
_LONG_PROMPT = " ".join([PROMPT] * 20)


def _counts(exchange: Exchange, judged_by: str) -> tuple[Any, Any]:
    usage = completion_json(exchange, judged_by=judged_by).get("usage")
    usage = usage if isinstance(usage, dict) else {}
    return usage.get("prompt_tokens"), usage.get("completion_tokens")


@check(
    "chat.completion.usage_grows",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="Usage counts what was sent and written: a prompt twenty times longer reports more "
    "prompt_tokens than the basic one, and a non-empty answer reports completion_tokens > 0.",
    source="OpenAI OpenAPI spec: CompletionUsage.prompt_tokens ('Number of tokens in the "
    "prompt'), .completion_tokens ('Number of tokens in the generated completion')",
    capability="chat",
)
async def check_usage_grows(ctx: CheckContext) -> None:
    basic = await basic_completion(ctx)
    body = basic_body(ctx.model("chat"), max_completion_tokens=8)
    body["messages"] = [{"role": "user", "content": _LONG_PROMPT}]
    long = await ctx.shared("chat.long_prompt", lambda: ctx.client.request("POST", CHAT, json=body))
    short_prompt, completion = _counts(basic, "chat.completion.accepted")
    if short_prompt is None:
        raise CheckSkipped("the basic answer carries no usage; see chat.completion.usage")
    long_prompt, _ = _counts(long, OWN)
    if type(long_prompt) is int and type(short_prompt) is int and long_prompt <= short_prompt:
        raise CheckFailed(
            f"a prompt twenty times longer reports {long_prompt} prompt_tokens, the basic one "
            f"{short_prompt}: usage does not count the input",
            long,
        )
    choices = completion_json(basic).get("choices")
    first = choices[0] if isinstance(choices, list) and choices else {}
    message = first.get("message") if isinstance(first, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str) and content.strip() and completion == 0:
        raise CheckFailed(
            f"the answer {content[:60]!r} reports completion_tokens 0: usage does not count "
            "the output",
            basic,
        )
