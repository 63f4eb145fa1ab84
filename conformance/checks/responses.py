"""Checks for the Responses API: ``POST /responses`` as JSON and as an event stream.

Sources: OpenAI's API reference for responses (``Response``, ``ResponseUsage``,
``ResponseOutputMessage``, ``ResponseOutputText``) and for streaming responses
(``ResponseStreamEvent``: every event has ``type`` and ``sequence_number``; the lifecycle
response.created -> response.in_progress -> response.output_item.added ->
response.content_part.added -> response.output_text.delta* -> response.output_text.done ->
response.content_part.done -> response.output_item.done -> response.completed). The stream's
rules are ``responses_stream.py``'s; this module judges the response object both share.

Must not: expect particular text (any correct model says something else).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.checks.verdicts import ok_json
from conformance.registry import CheckFailed, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__ = [
    "ENDPOINT",
    "create_response",
    "judge_response",
    "judge_usage",
    "message_text",
]

ENDPOINT = "POST /responses"
_INPUT = "Say hello in five words."
_EARLIEST = 1_577_836_800


async def create_response(ctx: CheckContext, *, stream: bool) -> Exchange:
    body: dict[str, Any] = {"model": ctx.model("responses"), "input": _INPUT}
    if stream:
        body["stream"] = True
    key = "responses.stream" if stream else "responses.json"
    return await ctx.shared(key, lambda: ctx.client.request("POST", "/responses", json=body))


def message_text(response: dict[str, Any]) -> str | None:
    """The text of the response's assistant message items (None when there is none)."""
    texts: list[str] = []
    found = False
    for item in response.get("output") or []:
        if not isinstance(item, dict) or item.get("type") != "message":
            continue
        for part in item.get("content") or []:
            if isinstance(part, dict) and part.get("type") == "output_text":
                found = True
                text = part.get("text")
                texts.append(text if isinstance(text, str) else "")
    return "".join(texts) if found else None


def judge_response(response: Any, what: str, exchange: Exchange) -> None:
    if not isinstance(response, dict):
        raise CheckFailed(f"{what} must be an object, got {type(response).__name__}", exchange)
    if response.get("object") != "response":
        raise CheckFailed(
            f"{what}: `object` must be 'response', got {response.get('object')!r}", exchange
        )
    if not isinstance(response.get("id"), str):
        raise CheckFailed(f"{what}: `id` must be a string, got {response.get('id')!r}", exchange)
    created = response.get("created_at")
    if not isinstance(created, (int, float)) or isinstance(created, bool) or created < _EARLIEST:
        raise CheckFailed(f"{what}: `created_at` must be Unix seconds, got {created!r}", exchange)
    if response.get("status") not in ("completed", "incomplete"):
        raise CheckFailed(
            f"{what}: `status` must be 'completed' (or 'incomplete'), got "
            f"{response.get('status')!r}",
            exchange,
        )
    if not isinstance(response.get("output"), list):
        raise CheckFailed(f"{what}: `output` must be a list", exchange)
    for position, item in enumerate(response["output"]):
        if item.get("type") == "message" and item.get("role") != "assistant":
            raise CheckFailed(
                f"{what}: output[{position}] message role must be 'assistant', got "
                f"{item.get('role')!r}",
                exchange,
            )
    if message_text(response) is None:
        raise CheckFailed(
            f"{what}: `output` holds no message item with an output_text content part", exchange
        )


def judge_usage(usage: Any, what: str, exchange: Exchange) -> None:
    if not isinstance(usage, dict):
        raise CheckFailed(f"{what}: `usage` must be an object, got {usage!r}", exchange)
    values: dict[str, int] = {}
    for name in ("input_tokens", "output_tokens", "total_tokens"):
        value = usage.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise CheckFailed(
                f"{what}: usage.{name} must be an integer >= 0, got {value!r}", exchange
            )
        values[name] = value
    if values["total_tokens"] != values["input_tokens"] + values["output_tokens"]:
        raise CheckFailed(
            f"{what}: usage.total_tokens {values['total_tokens']} != input_tokens "
            f"{values['input_tokens']} + output_tokens {values['output_tokens']}",
            exchange,
        )


@check(
    "responses.response.shape",
    area="responses",
    level="smoke",
    endpoint=ENDPOINT,
    asserts="a response is object 'response' with id, created_at in seconds, status "
    "completed, and an assistant message item holding output_text content",
    source="OpenAI API reference: Response, ResponseOutputMessage, ResponseOutputText",
    capability="responses",
)
async def check_responses_response_shape(ctx: CheckContext) -> None:
    exchange = await create_response(ctx, stream=False)
    judge_response(ok_json(exchange, "response"), "the response", exchange)


@check(
    "responses.response.usage",
    area="responses",
    level="standard",
    endpoint=ENDPOINT,
    asserts="usage has integer input_tokens, output_tokens and total_tokens = input + output",
    source="OpenAI API reference: ResponseUsage",
    capability="responses",
)
async def check_responses_response_usage(ctx: CheckContext) -> None:
    exchange = await create_response(ctx, stream=False)
    judge_usage(ok_json(exchange, "response").get("usage"), "the response", exchange)
