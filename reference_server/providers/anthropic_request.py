"""An OpenAI chat completion request as an Anthropic Messages request: its parameters.

OpenAI's chat completions reference (``CreateChatCompletionRequest``) on one side, Anthropic's
API reference ("Messages", the "Tool use" guide) on the other. The messages themselves are
translated by ``anthropic_content``; a Responses request is first read as the chat request it
amounts to (``anthropic_inputs``). Then:

* ``tools`` -> custom tools (``parameters`` as ``input_schema``); ``tool_choice`` none / auto /
  required / named -> ``none`` / ``auto`` / ``any`` / ``tool``; ``allowed_tools`` -> only the
  listed tools, with ``auto`` or ``any``; ``parallel_tool_calls: false`` ->
  ``disable_parallel_tool_use``.
* JSON modes: ``response_format`` ``json_schema`` and ``json_object`` become one more tool,
  ``json_answer``, whose ``input_schema`` is the schema (``{"type": "object"}`` for
  ``json_object``) and which the model is made to call (``tool_choice`` ``tool``; ``any`` when
  the client's own tools may be called instead; when the client forces a tool call the answer
  is that call, and no JSON tool is offered). Its input is the answer's content
  (``anthropic_response``): Anthropic has no JSON mode every model takes, and a forced tool's
  input is always a JSON object, which is what both modes promise.
* ``stop`` -> ``stop_sequences``; ``max_completion_tokens`` (else ``max_tokens``) ->
  ``max_tokens``, which Anthropic requires: when the client sets neither, the provider's
  ``max_tokens`` setting, else the model's maximum output ("Models overview"), else 4096 for a
  model not listed here (the least any Claude model allows), so an answer is never cut shorter
  than the model would stop by itself.
* ``temperature`` (OpenAI 0-2) is clamped to Anthropic's 0-1; ``top_p`` as is; ``user`` (or
  ``safety_identifier``) -> ``metadata.user_id``; the provider's ``prompt_caching`` setting adds
  a top-level ``cache_control`` ("Prompt caching": automatic caching of the longest prefix).
* Refused with a 400 naming the parameter, since Anthropic cannot do them: ``n`` other than 1,
  ``logprobs`` / ``top_logprobs``, audio (``modalities``, ``audio``), legacy ``functions`` /
  ``function_call``, tools other than functions, a ``json_schema`` whose root is not an
  object, stop sequences of whitespace only. Dropped, as hints Anthropic has no knob for:
  ``seed``, ``frequency_penalty``, ``presence_penalty``, ``logit_bias``, ``reasoning_effort``,
  ``verbosity``, ``store``, ``metadata``, ``service_tier``, ``prompt_cache_key``,
  ``prediction``.

Must not: do I/O, or read answers (``anthropic_response``, ``anthropic_stream``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from reference_server.providers.anthropic_content import translate_messages
from reference_server.providers.anthropic_errors import refusal
from reference_server.providers.anthropic_inputs import responses_as_chat

__all__ = ["JSON_TOOL", "MessagesRequest", "default_max_tokens", "messages_request"]

JSON_TOOL = "json_answer"
_JSON_TOOL_DESCRIPTION = (
    "Give your whole answer as this tool's input: it is the JSON document the user asked for."
)
_FALLBACK_MAX_TOKENS = 4096
# Maximum output tokens of each model (Anthropic's "Models overview"); a dated id or an
# alias suffix (-latest, -0) names the same model.
_MAX_OUTPUT = {
    "claude-opus-4-6": 128_000,
    "claude-sonnet-4-6": 128_000,
    "claude-opus-4-5": 64_000,
    "claude-haiku-4-5": 64_000,
    "claude-sonnet-4-5": 64_000,
    "claude-opus-4-1": 32_000,
    "claude-opus-4": 32_000,
    "claude-sonnet-4": 64_000,
    "claude-3-7-sonnet": 64_000,
    "claude-3-5-sonnet": 8_192,
    "claude-3-5-haiku": 8_192,
    "claude-3-haiku": 4_096,
}
_SUFFIX = re.compile(r"-(?:\d{8}|latest|0)$")
_REFUSED = {  # parameter -> why Anthropic cannot honour it
    "logprobs": "Anthropic's Messages API returns no log probabilities",
    "top_logprobs": "Anthropic's Messages API returns no log probabilities",
    "audio": "Anthropic's Messages API answers in text only",
    "functions": "use `tools` (Anthropic has no legacy functions)",
    "function_call": "use `tool_choice` (Anthropic has no legacy functions)",
}


class MessagesRequest(NamedTuple):
    body: dict[str, Any]  # the Messages request body
    json_tool: str | None  # the tool whose input is the answer's content (JSON modes)


def default_max_tokens(model: str, configured: int | None) -> int:
    if configured is not None:
        return configured
    found = _MAX_OUTPUT.get(model) or _MAX_OUTPUT.get(_SUFFIX.sub("", model))
    return found or _FALLBACK_MAX_TOKENS


def _tools(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    tools = []
    for index, tool in enumerate(body.get("tools") or ()):
        function = tool.get("function")
        if tool.get("type") != "function" or not isinstance(function, Mapping):
            raise refusal(
                f"tools[{index}].type",
                f"tools[{index}]: only function tools can be "
                f"offered to an Anthropic model, not {tool.get('type')!r}",
            )
        schema = function.get("parameters") or {"type": "object", "properties": {}}
        entry: dict[str, Any] = {"name": function.get("name"), "input_schema": schema}
        if isinstance(function.get("description"), str):
            entry["description"] = function["description"]
        tools.append(entry)
    return tools


def _tool_choice(
    body: Mapping[str, Any], tools: list[dict[str, Any]]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(Anthropic tool_choice or None for the default, the tools to offer)."""
    value = body.get("tool_choice")
    choice: dict[str, Any] | None = None
    if value == "none":
        choice = {"type": "none"}
    elif value == "auto":
        choice = {"type": "auto"}
    elif value == "required":
        choice = {"type": "any"}
    elif isinstance(value, Mapping) and value.get("type") == "function":
        choice = {"type": "tool", "name": (value.get("function") or {}).get("name")}
    elif isinstance(value, Mapping) and value.get("type") == "allowed_tools":
        allowed = value.get("allowed_tools") or {}
        names = {(t.get("function") or {}).get("name") for t in allowed.get("tools") or ()}
        tools = [t for t in tools if t["name"] in names]
        choice = {"type": "any" if allowed.get("mode") == "required" else "auto"}
    elif value is not None:
        raise refusal("tool_choice", f"tool_choice: {value!r} cannot be sent to an Anthropic model")
    if choice is not None and choice["type"] != "none" and body.get("parallel_tool_calls") is False:
        choice["disable_parallel_tool_use"] = True
    return choice, tools


def _json_mode(
    body: Mapping[str, Any], tools: list[dict[str, Any]], choice: dict[str, Any] | None
) -> tuple[str | None, dict[str, Any] | None]:
    """Offer the JSON tool for a JSON mode: (its name, the tool_choice that makes it answer)."""
    fmt = body.get("response_format")
    if not isinstance(fmt, Mapping) or fmt.get("type") not in ("json_object", "json_schema"):
        return None, choice
    if choice is not None and choice["type"] in ("any", "tool"):
        return None, choice  # the client wants a tool call: the answer is one
    schema: Any = {"type": "object"}
    if fmt["type"] == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema") or schema
        if not isinstance(schema, Mapping) or schema.get("type") != "object":
            raise refusal(
                "response_format.json_schema.schema",
                "response_format.json_schema."
                "schema: an Anthropic model answers JSON objects only (type 'object')",
            )
    name = JSON_TOOL
    taken = {t["name"] for t in tools}
    while name in taken:
        name += "_"
    tools.append({"name": name, "description": _JSON_TOOL_DESCRIPTION, "input_schema": schema})
    offered = len(tools) > 1 and (choice is None or choice["type"] == "auto")
    forced: dict[str, Any] = {"type": "any"} if offered else {"type": "tool", "name": name}
    if choice is not None and "disable_parallel_tool_use" in choice:
        forced["disable_parallel_tool_use"] = True
    return name, forced


def _stops(value: Any) -> list[str]:
    stops = [value] if isinstance(value, str) else list(value or ())
    for stop in stops:
        if not stop.strip():
            raise refusal(
                "stop",
                f"stop: {stop!r} is only whitespace; Anthropic's stop_sequences "
                "need at least one other character",
            )
    return stops


def _refusals(body: Mapping[str, Any]) -> None:
    n = body.get("n")
    if n is not None and n != 1:
        raise refusal(
            "n",
            f"n: {n!r} is not supported by this model (Anthropic's Messages API "
            "generates one choice per request); send n=1 or leave it out",
        )
    for name, why in _REFUSED.items():
        value = body.get(name)
        if value not in (None, False, 0):
            raise refusal(
                name,
                f"{name}: {value!r} is not supported by this model: {why}",
                "unsupported_parameter",
            )
    modalities = body.get("modalities")
    if isinstance(modalities, list) and any(m != "text" for m in modalities):
        raise refusal(
            "modalities",
            f"modalities: {modalities!r} is not supported by this model: "
            "Anthropic's Messages API answers in text only",
            "unsupported_parameter",
        )


def messages_request(
    endpoint: str,
    body: Mapping[str, Any],
    model: str,
    *,
    max_tokens: int | None,
    prompt_caching: bool,
    stream: bool,
) -> MessagesRequest:
    """The Messages request for a validated chat (or ``responses``) request ``body``."""
    if endpoint == "responses":
        body = responses_as_chat(body)
    _refusals(body)
    messages, system = translate_messages(body["messages"])
    if not messages:
        raise refusal(
            "messages",
            "messages: an Anthropic model needs a user or assistant "
            "message with content, not only system messages",
            "invalid_value",
        )
    tools = _tools(body)
    choice, tools = _tool_choice(body, tools)
    json_tool, choice = _json_mode(body, tools, choice)
    limit = body.get("max_completion_tokens")
    if limit is None:
        limit = body.get("max_tokens")
    out: dict[str, Any] = {
        "model": model,
        "max_tokens": limit if limit is not None else default_max_tokens(model, max_tokens),
        "messages": messages,
    }
    if system:
        out["system"] = system
    if tools:
        out["tools"] = tools
    if choice is not None and tools:
        out["tool_choice"] = choice
    if body.get("stop") is not None:
        out["stop_sequences"] = _stops(body["stop"])
    if body.get("temperature") is not None:
        out["temperature"] = min(float(body["temperature"]), 1.0)
    if body.get("top_p") is not None:
        out["top_p"] = body["top_p"]
    user = body.get("user") or body.get("safety_identifier")
    if isinstance(user, str) and user:
        out["metadata"] = {"user_id": user}
    if prompt_caching:
        out["cache_control"] = {"type": "ephemeral"}
    if stream:
        out["stream"] = True
    return MessagesRequest(out, json_tool)
