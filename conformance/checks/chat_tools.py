"""Chat Completions tool calling, non-streaming: tool_choice forms, arguments, follow-up turns.

Tool calls are forced (``required`` or a named function) wherever a verdict depends on one:
under ``auto`` a correct model may answer in text, which is a warning at most. A token cap that
ends the answer before any call (a reasoning model thinking first) leaves nothing to judge.

Arguments: the spec warns that "the model does not always generate valid JSON" for a plain
function, so invalid arguments there are a warning; with ``strict: true`` the model "will
follow the exact schema", so invalid arguments there fail.

Must not: judge streamed tool-call deltas (``chat_stream.py``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from conformance.checks.chat import CHAT, OWN, completion_json
from conformance.checks.verdicts import refused_documented
from conformance.registry import CheckFailed, CheckSkipped, CheckWarning, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__ = ["TOOLS", "WEATHER", "tool_body"]

WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
TIME: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current local time in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
TOOLS = [WEATHER, TIME]
_PROMPT = "What is the weather in Paris right now? Use the tools."
_SPEC = "OpenAI OpenAPI spec, CreateChatCompletionRequest.tool_choice"


def tool_body(model: str, tool_choice: Any, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": _PROMPT}],
        "tools": TOOLS,
        "tool_choice": tool_choice,
        "max_completion_tokens": 64,
    }
    body.update(extra)
    return body


async def _forced(ctx: CheckContext) -> Exchange:
    body = tool_body(ctx.model("chat"), "required")
    return await ctx.shared(
        "chat.tools.required", lambda: ctx.client.request("POST", CHAT, json=body)
    )


def _first_choice(exchange: Exchange, judged_by: str) -> dict[str, Any]:
    """The first choice; a refusal fails the check that owns the request, skips the others."""
    if exchange.status != 200 and judged_by != OWN:
        raise CheckSkipped(f"the tool request was refused ({exchange.status}); see {judged_by}")
    if exchange.status != 200:
        raise CheckFailed(
            f"the tool request was refused: {exchange.status} {exchange.text[:200]!r}", exchange
        )
    body = completion_json(exchange, judged_by=judged_by)
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise CheckSkipped("the answer has no choices; see chat.completion.shape")
    return choices[0]


def _cut_before_calling(exchange: Exchange, choice: dict[str, Any]) -> None:
    """No call yet because the token cap ended the turn (a reasoning model thinking first):
    legal, and nothing to judge."""
    if choice.get("finish_reason") == "length" and not _calls(choice):
        raise CheckSkipped(
            "the token cap ended the answer before any tool call (finish_reason 'length'): "
            "nothing to judge"
        )


def _calls(choice: dict[str, Any]) -> list[Any]:
    message = choice.get("message")
    calls = message.get("tool_calls") if isinstance(message, dict) else None
    return calls if isinstance(calls, list) else []


def _name(call: Any) -> Any:
    function = call.get("function") if isinstance(call, dict) else None
    return function.get("name") if isinstance(function, dict) else None


@check(
    "chat.tools.required",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="`tool_choice: required` returns at least one tool call, each with an id, "
    "`type: function` and a declared function name.",
    source=f"{_SPEC} ('required means the model must call one or more tools'); "
    "ChatCompletionMessageToolCall",
    capability="chat",
)
async def check_tools_required(ctx: CheckContext) -> None:
    exchange = await _forced(ctx)
    choice = _first_choice(exchange, OWN)
    _cut_before_calling(exchange, choice)
    calls = _calls(choice)
    if not calls:
        raise CheckFailed("tool_choice 'required' returned no tool_calls", exchange)
    names = {t["function"]["name"] for t in TOOLS}
    for call in calls:
        if not isinstance(call, dict) or not isinstance(call.get("id"), str) or not call["id"]:
            raise CheckFailed(f"a tool call has no id: {call!r}", exchange)
        if call.get("type") != "function" or _name(call) not in names:
            raise CheckFailed(
                f"tool call {call.get('id')!r} has type {call.get('type')!r} and name "
                f"{_name(call)!r}; declared tools are {sorted(names)}",
                exchange,
            )


def _strict_tools() -> list[dict[str, Any]]:
    return [{**t, "function": {**t["function"], "strict": True}} for t in TOOLS]


def _argument_problems(calls: list[Any]) -> tuple[list[str], list[str]]:
    """(calls whose arguments are not a string, calls whose string is not schema-valid JSON)."""
    import jsonschema

    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}
    not_strings: list[str] = []
    invalid: list[str] = []
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        arguments = function.get("arguments") if isinstance(function, dict) else None
        if not isinstance(arguments, str):
            not_strings.append(f"arguments is {type(arguments).__name__} {arguments!r:.80}")
            continue
        try:
            parsed = json.loads(arguments)
        except ValueError:
            invalid.append(f"arguments {arguments[:120]!r} are not JSON")
            continue
        schema = schemas.get(_name(call))
        if schema is None:
            continue  # judged by chat.tools.required
        errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(parsed)]
        if errors:
            invalid.append(f"arguments {arguments[:120]!r} break the tool schema: {errors[0]}")
    return not_strings, invalid


@check(
    "chat.tools.arguments_json",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="Each tool call's `function.arguments` is a string; with `strict: true` functions it "
    "holds JSON valid against the parameters schema (for plain functions, invalid JSON is a "
    "warning).",
    source="OpenAI OpenAPI spec: ChatCompletionMessageToolCall.function.arguments (type "
    "string; 'the model does not always generate valid JSON'); FunctionObject.strict ('the "
    "model will follow the exact schema defined in the parameters field')",
    capability="chat",
)
async def check_tools_arguments(ctx: CheckContext) -> None:
    exchange = await _forced(ctx)
    calls = _calls(_first_choice(exchange, "chat.tools.required"))
    if not calls:
        raise CheckSkipped("no tool calls to judge; see chat.tools.required")
    not_strings, loose = _argument_problems(calls)
    if not_strings:
        raise CheckFailed(f"{not_strings[0]}, not a JSON string", exchange)
    body = tool_body(ctx.model("chat"), "required", tools=_strict_tools())
    strict = await ctx.shared(
        "chat.tools.strict", lambda: ctx.client.request("POST", CHAT, json=body)
    )
    if strict.status == 400:
        refused_documented(ctx, "chat.tools.strict", strict, "a function with strict: true")
    strict_choice = _first_choice(strict, OWN)
    not_strings, invalid = _argument_problems(_calls(strict_choice))
    if not_strings or invalid:
        raise CheckFailed(f"strict function: {(not_strings or invalid)[0]}", strict)
    if loose:
        raise CheckWarning(
            f"plain (non-strict) function: {loose[0]}; legal (the model 'does not always "
            "generate valid JSON') but clients must validate",
            exchange,
        )


@check(
    "chat.tools.finish_reason",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="A completion that returns tool calls under `tool_choice: required` ends with "
    "finish_reason `tool_calls`.",
    source="OpenAI OpenAPI spec: CreateChatCompletionResponse.choices.finish_reason "
    "('tool_calls if the model called a tool')",
    capability="chat",
)
async def check_tools_finish_reason(ctx: CheckContext) -> None:
    exchange = await _forced(ctx)
    choice = _first_choice(exchange, "chat.tools.required")
    if not _calls(choice):
        raise CheckSkipped("no tool calls to judge; see chat.tools.required")
    if choice.get("finish_reason") != "tool_calls":
        raise CheckFailed(
            f"finish_reason is {choice.get('finish_reason')!r} with tool calls, "
            "expected 'tool_calls'",
            exchange,
        )


@check(
    "chat.tools.named_choice",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="A named `tool_choice` returns a call to exactly that function.",
    source=f"{_SPEC}: ChatCompletionNamedToolChoice ('forces the model to call that tool')",
    capability="chat",
)
async def check_tools_named(ctx: CheckContext) -> None:
    choice_obj = {"type": "function", "function": {"name": "get_time"}}
    body = tool_body(ctx.model("chat"), choice_obj)
    exchange = await ctx.shared(
        "chat.tools.named", lambda: ctx.client.request("POST", CHAT, json=body)
    )
    choice = _first_choice(exchange, OWN)
    _cut_before_calling(exchange, choice)
    calls = _calls(choice)
    names = [_name(c) for c in calls]
    if not calls or any(n != "get_time" for n in names):
        raise CheckFailed(f"tool_choice named get_time, the calls name {names!r}", exchange)


@check(
    "chat.tools.none",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="`tool_choice: none` returns no tool calls and a finish_reason other than "
    "`tool_calls`.",
    source=f"{_SPEC} ('none means the model will not call any tool and instead generates a "
    "message')",
    capability="chat",
)
async def check_tools_none(ctx: CheckContext) -> None:
    body = tool_body(ctx.model("chat"), "none", max_completion_tokens=16)
    exchange = await ctx.shared(
        "chat.tools.none", lambda: ctx.client.request("POST", CHAT, json=body)
    )
    choice = _first_choice(exchange, OWN)
    if _calls(choice):
        raise CheckFailed("tool_choice 'none' still returned tool_calls", exchange)
    if choice.get("finish_reason") == "tool_calls":
        raise CheckFailed("finish_reason is 'tool_calls' but no tool was called", exchange)


@check(
    "chat.tools.parallel",
    area="chat",
    level="deep",
    endpoint=CHAT,
    asserts="With `parallel_tool_calls: true` and a prompt needing both tools, several calls "
    "come back in one message with distinct ids (one call only is a warning).",
    source="OpenAI OpenAPI spec: CreateChatCompletionRequest.parallel_tool_calls; OpenAI "
    "function calling guide, 'Parallel function calling'",
    capability="chat",
)
async def check_tools_parallel(ctx: CheckContext) -> None:
    body = tool_body(ctx.model("chat"), "required", parallel_tool_calls=True)
    body["messages"] = [
        {"role": "user", "content": "Get both the weather and the local time in Paris."}
    ]
    exchange = await ctx.shared(
        "chat.tools.parallel", lambda: ctx.client.request("POST", CHAT, json=body)
    )
    calls = _calls(_first_choice(exchange, OWN))
    ids = [c.get("id") for c in calls if isinstance(c, dict)]
    if len(calls) < 2:
        raise CheckWarning(f"the model made {len(calls)} call(s), not parallel ones", exchange)
    if len(set(ids)) != len(ids) or not all(isinstance(i, str) and i for i in ids):
        raise CheckFailed(f"parallel tool calls have ids {ids!r}; expected distinct", exchange)


@check(
    "chat.tools.followup",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="A follow-up turn carrying the assistant's tool call and a `tool` result message "
    "is accepted and answered.",
    source="OpenAI OpenAPI spec: ChatCompletionRequestAssistantMessage.tool_calls and "
    "ChatCompletionRequestToolMessage (tool_call_id); function calling guide",
    capability="chat",
)
async def check_tools_followup(ctx: CheckContext) -> None:
    call = {
        "id": "call_parity_0001",
        "type": "function",
        "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})},
    }
    body = tool_body(ctx.model("chat"), "auto")
    body["messages"] = [
        {"role": "user", "content": _PROMPT},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": '{"temp_c": 18, "sky": "clear"}'},
    ]
    exchange = await ctx.shared(
        "chat.tools.followup", lambda: ctx.client.request("POST", CHAT, json=body)
    )
    choice = _first_choice(exchange, OWN)
    message = choice.get("message")
    if not isinstance(message, dict) or message.get("role") != "assistant":
        raise CheckFailed(f"the follow-up answer has message {message!r}", exchange)
