"""Chat Completions output formats: JSON mode, structured outputs (json_schema) and logprobs.

Must not: judge plain completions (``chat.py``) or tools (``chat_tools.py``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from conformance.checks.chat import CHAT, OWN, completion_json
from conformance.registry import CheckFailed, CheckSkipped, CheckWarning, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__: list[str] = []

_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "population_millions": {"type": "number"},
        "is_capital": {"type": "boolean"},
    },
    "required": ["city", "population_millions", "is_capital"],
    "additionalProperties": False,
}


async def _answer(ctx: CheckContext, key: str, body: dict[str, Any]) -> tuple[Exchange, Any]:
    exchange = await ctx.shared(key, lambda: ctx.client.request("POST", CHAT, json=body))
    if exchange.status != 200:
        raise CheckFailed(f"refused: {exchange.status} {exchange.text[:200]!r}", exchange)
    payload = completion_json(exchange, judged_by=OWN)
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise CheckSkipped("the answer has no choices; see chat.completion.shape")
    return exchange, choices[0]


def _content_json(exchange: Exchange, choice: dict[str, Any]) -> Any:
    message = choice.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    cut = choice.get("finish_reason") == "length"
    if not isinstance(content, str) and not cut:
        raise CheckFailed(f"message.content is {content!r}, not a string", exchange)
    if isinstance(content, str):
        try:
            return json.loads(content)
        except ValueError:
            pass
    if cut:
        # A reasoning model may spend the whole cap before the JSON closes (or starts): legal,
        # and nothing to judge.
        raise CheckSkipped(
            f"the answer was cut at the token cap before the JSON closed: {content!r:.120}"
        )
    raise CheckFailed(f"message.content is not JSON: {content!r:.160}", exchange)


@check(
    "chat.format.json_object",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="With `response_format: {type: json_object}` the message content parses as a "
    "JSON object (no Markdown fences).",
    source="OpenAI OpenAPI spec: ResponseFormatJsonObject ('ensures the message the model "
    "generates is valid JSON'); structured outputs guide, JSON mode",
    capability="chat",
)
async def check_json_object(ctx: CheckContext) -> None:
    body = {
        "model": ctx.model("chat"),
        "messages": [
            {"role": "user", "content": "Reply in JSON: an object with key 'ok' set to true."}
        ],
        "response_format": {"type": "json_object"},
        "max_completion_tokens": 64,
    }
    exchange, choice = await _answer(ctx, "chat.format.json_object", body)
    value = _content_json(exchange, choice)
    if not isinstance(value, dict):
        raise CheckFailed(f"the JSON content is {type(value).__name__}, not an object", exchange)


@check(
    "chat.format.json_schema",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="With `response_format` json_schema and `strict: true`, the content parses and "
    "validates against the schema.",
    source="OpenAI OpenAPI spec: ResponseFormatJsonSchema (strict: 'the model will always "
    "follow the exact schema defined in the schema field'); structured outputs guide",
    capability="chat",
)
async def check_json_schema(ctx: CheckContext) -> None:
    import jsonschema

    body = {
        "model": ctx.model("chat"),
        "messages": [{"role": "user", "content": "Describe Paris."}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "city_facts", "strict": True, "schema": _SCHEMA},
        },
        "max_completion_tokens": 96,
    }
    exchange, choice = await _answer(ctx, "chat.format.json_schema", body)
    value = _content_json(exchange, choice)
    errors = [e.message for e in jsonschema.Draft202012Validator(_SCHEMA).iter_errors(value)]
    if errors:
        raise CheckFailed(f"the content does not match the schema: {errors[0]}", exchange)


@check(
    "chat.format.logprobs",
    area="chat",
    level="deep",
    endpoint=CHAT,
    asserts="`logprobs: true, top_logprobs: 2` returns `choices[].logprobs.content` entries "
    "with a string token, a logprob <= 0, bytes (integers or null) and at most 2 "
    "alternatives (a 400 refusal is a warning: OpenAI's reasoning models refuse logprobs).",
    source="OpenAI OpenAPI spec: CreateChatCompletionRequest.logprobs/top_logprobs; "
    "ChatCompletionTokenLogprob; OpenAI reasoning guide, limitations (logprobs unsupported)",
    capability="chat",
)
async def check_logprobs(ctx: CheckContext) -> None:
    body = {
        "model": ctx.model("chat"),
        "messages": [{"role": "user", "content": "Say hello."}],
        "logprobs": True,
        "top_logprobs": 2,
        "max_completion_tokens": 8,
    }
    exchange = await ctx.shared(
        "chat.format.logprobs", lambda: ctx.client.request("POST", CHAT, json=body)
    )
    if exchange.status == 400:
        # Legal but unusual: OpenAI's own reasoning models refuse logprobs (reasoning guide).
        raise CheckWarning("the target refuses logprobs with 400", exchange)
    exchange, choice = await _answer(ctx, "chat.format.logprobs", body)
    logprobs = choice.get("logprobs")
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(content, list) or not content:
        raise CheckFailed(
            f"choices[0].logprobs is {logprobs!r}; expected content entries", exchange
        )
    for entry in content:
        problem = _logprob_problem(entry)
        if problem is None:
            alternatives = entry.get("top_logprobs")
            if not isinstance(alternatives, list) or len(alternatives) > 2:
                problem = f"top_logprobs is {alternatives!r}; expected a list of at most 2"
            else:
                problem = next(filter(None, map(_logprob_problem, alternatives)), None)
        if problem:
            raise CheckFailed(problem, exchange)


def _logprob_problem(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return f"a logprob entry is {entry!r}"
    if not isinstance(entry.get("token"), str):
        return f"token is {entry.get('token')!r}"
    value = entry.get("logprob")
    if not isinstance(value, int | float) or isinstance(value, bool) or value > 0:
        return f"logprob {value!r} is not a number <= 0 (token {entry['token']!r})"
    raw = entry.get("bytes")
    if raw is not None and (
        not isinstance(raw, list) or not all(type(b) is int and 0 <= b < 256 for b in raw)
    ):
        return f"bytes is {raw!r}; expected a list of byte values or null"
    return None
