"""A Messages API request body, checked as Anthropic checks it, into a :class:`MessagesRequest`.

Anthropic API reference, "Messages" (``POST /v1/messages``): ``model``, ``max_tokens`` and
``messages`` are required; unknown top-level fields are refused ("Extra inputs are not
permitted"); ``system`` is a string or text blocks; a message's role is ``user`` or
``assistant``, its content a string or blocks (``text``, ``image`` with a base64 or url source,
``document``, ``tool_use`` from the assistant, ``tool_result`` from the user, ``thinking``);
every message but a final assistant one has non-empty content; each ``tool_result`` answers a
``tool_use`` of the message just before, and each ``tool_use`` is answered in the message just
after ("Tool use" guide); ``tools`` are custom tools (``name``, ``input_schema`` of type object)
or typed server tools; ``tool_choice`` is ``auto``, ``any``, ``tool`` (with a declared
``name``) or ``none``; at most 4 ``cache_control`` markers ("Prompt caching").

Must not: answer or count tokens; messages name the offending field and value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from reference_server.upstream.anthropic_errors import AnthropicError, invalid
from reference_server.upstream.anthropic_models import find_model

__all__ = ["MessagesRequest", "Tool", "ToolChoice", "parse_messages_request"]

_FIELDS = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "stop_sequences",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "tools",
        "tool_choice",
        "metadata",
        "thinking",
        "service_tier",
        "cache_control",
        "container",
        "context_management",
        "diagnostics",
        "inference_geo",
        "mcp_servers",
        "output_config",
        "speed",
        "user_profile_id",
        "workspace_id",
    }
)
_USER_BLOCKS = ("text", "image", "document", "tool_result", "search_result")
_ASSISTANT_BLOCKS = ("text", "tool_use", "thinking", "redacted_thinking")
_RESULT_BLOCKS = ("text", "image", "document", "search_result")  # inside a tool_result
_ALLOWED = {  # where a block sits -> (how a message names it, the block types it may hold)
    "user": ("a user message", _USER_BLOCKS),
    "assistant": ("an assistant message", _ASSISTANT_BLOCKS),
    "tool_result": ("a tool_result", _RESULT_BLOCKS),
}
_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
_MAX_MARKERS = 4
_SHOWN = 60  # characters of an offending value quoted in a message


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    input_schema: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ToolChoice:
    type: Literal["auto", "any", "tool", "none"]
    name: str | None
    parallel: bool


@dataclass(frozen=True, slots=True)
class MessagesRequest:
    body: Mapping[str, Any]  # the checked body, as sent
    model: str
    max_tokens: int
    stream: bool
    tools: tuple[Tool, ...]  # the custom tools (the synthetic model calls only these)
    tool_choice: ToolChoice
    stop_sequences: tuple[str, ...]
    answers_tool_results: bool  # the last message carries tool results


def _show(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= _SHOWN else shown[: _SHOWN - 3] + "..."


def _number(body: Mapping[str, Any], name: str, low: float, high: float | None) -> None:
    value = body.get(name)
    if value is None:
        return
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise invalid(f"{name}: {_show(value)} is invalid; expected a number {bound}")


def _text_blocks(value: Any, path: str) -> None:
    if isinstance(value, str):
        return
    if not isinstance(value, list):
        raise invalid(f"{path}: expected a string or a list of text blocks, got {_show(value)}")
    for i, block in enumerate(value):
        if not isinstance(block, Mapping) or block.get("type") != "text":
            raise invalid(f"{path}.{i}: expected a text block, got {_show(block)}")
        if not isinstance(block.get("text"), str):
            raise invalid(f"{path}.{i}.text: Field required (a string)")


def _image(block: Mapping[str, Any], path: str) -> None:
    source = block.get("source")
    if not isinstance(source, Mapping):
        raise invalid(f"{path}.source: Field required")
    kind = source.get("type")
    if kind == "base64":
        if source.get("media_type") not in _MEDIA_TYPES:
            raise invalid(
                f"{path}.source.media_type: {_show(source.get('media_type'))} is invalid; "
                f"expected one of {list(_MEDIA_TYPES)}"
            )
        if not isinstance(source.get("data"), str) or not source["data"]:
            raise invalid(f"{path}.source.data: Field required (base64 image data)")
    elif kind == "url":
        if not isinstance(source.get("url"), str) or not source["url"]:
            raise invalid(f"{path}.source.url: Field required")
    elif kind not in ("file", "text", "content"):
        raise invalid(
            f"{path}.source.type: {_show(kind)} is invalid; expected 'base64', 'url' or 'file'"
        )


def _block(block: Any, role: str, path: str) -> None:
    """``role``: ``user``, ``assistant``, or ``tool_result`` for a tool result's own blocks."""
    if not isinstance(block, Mapping):
        raise invalid(f"{path}: expected a content block object, got {_show(block)}")
    kind = block.get("type")
    where, allowed = _ALLOWED[role]
    if kind not in allowed:
        raise invalid(
            f"{path}.type: {_show(kind)} is not a valid block in {where}; "
            f"expected one of {list(allowed)}"
        )
    if kind == "text":
        text = block.get("text")
        if not isinstance(text, str):
            raise invalid(f"{path}.text: Field required (a string)")
        if not text:
            raise invalid(f"{path}: text content blocks must be non-empty")
    elif kind in ("image", "document"):
        _image(block, path)
    elif kind == "tool_use":
        if not isinstance(block.get("id"), str) or not block["id"]:
            raise invalid(f"{path}.id: Field required")
        if not isinstance(block.get("name"), str) or not block["name"]:
            raise invalid(f"{path}.name: Field required")
        if not isinstance(block.get("input"), Mapping):
            raise invalid(f"{path}.input: expected an object, got {_show(block.get('input'))}")
    elif kind == "tool_result":
        if not isinstance(block.get("tool_use_id"), str) or not block["tool_use_id"]:
            raise invalid(f"{path}.tool_use_id: Field required")
        content = block.get("content")
        if content is not None and not isinstance(content, str | list):
            raise invalid(f"{path}.content: expected a string or blocks, got {_show(content)}")
        if isinstance(content, list):
            for i, inner in enumerate(content):
                _block(inner, "tool_result", f"{path}.content.{i}")
        if "is_error" in block and not isinstance(block["is_error"], bool):
            raise invalid(f"{path}.is_error: expected a boolean, got {_show(block['is_error'])}")


def _ids(content: Any, kind: str, key: str) -> list[str]:
    if not isinstance(content, list):
        return []
    return [b[key] for b in content if isinstance(b, Mapping) and b.get("type") == kind]


def _messages(raw: Any) -> None:
    if not isinstance(raw, list):
        raise invalid("messages: Field required (a list of messages)")
    if not raw:
        raise invalid("messages: at least one message is required")
    pending: list[str] = []  # tool_use ids the next message must answer
    for index, message in enumerate(raw):
        path = f"messages.{index}"
        if not isinstance(message, Mapping):
            raise invalid(f"{path}: expected a message object, got {_show(message)}")
        role = message.get("role")
        if role not in ("user", "assistant"):
            raise invalid(
                f"{path}.role: {_show(role)} is invalid; expected 'user' or 'assistant' "
                "(the system prompt goes in the top-level `system` parameter)"
            )
        content = message.get("content")
        if not isinstance(content, str | list):
            raise invalid(f"{path}.content: expected a string or a list of content blocks")
        last_assistant = role == "assistant" and index == len(raw) - 1
        if not content and not last_assistant:
            raise invalid(
                f"{path}: all messages must have non-empty content except for the optional "
                "final assistant message"
            )
        for i, block in enumerate(content if isinstance(content, list) else ()):
            _block(block, role, f"{path}.content.{i}")
        answered = _ids(content, "tool_result", "tool_use_id")
        unexpected = [i for i in answered if i not in pending]
        if unexpected:
            raise invalid(
                f"{path}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
                f"{', '.join(unexpected)}. Each `tool_result` block must have a corresponding "
                "`tool_use` block in the previous message."
            )
        missing = [i for i in pending if i not in answered]
        if missing:
            raise invalid(
                f"messages.{index}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(missing)}. Each `tool_use` block must have a "
                "corresponding `tool_result` block in the next message."
            )
        pending = _ids(content, "tool_use", "id")


def _tools(raw: Any) -> tuple[Tool, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise invalid(f"tools: expected a list of tools, got {_show(raw)}")
    tools: list[Tool] = []
    names: set[str] = set()
    for index, tool in enumerate(raw):
        path = f"tools.{index}"
        if not isinstance(tool, Mapping):
            raise invalid(f"{path}: expected a tool object, got {_show(tool)}")
        if tool.get("type") not in (None, "custom"):
            continue  # a server tool (web search, code execution ...): the synthetic never calls it
        name = tool.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            raise invalid(
                f"{path}.name: {_show(name)} is invalid; expected 1-128 characters of "
                "letters, digits, '_' or '-'"
            )
        schema = tool.get("input_schema")
        if not isinstance(schema, Mapping) or schema.get("type") != "object":
            raise invalid(
                f"{path}.input_schema: expected a JSON Schema object with type 'object', "
                f"got {_show(schema)}"
            )
        if name in names:
            raise invalid(f"tools: Tool names must be unique; {name!r} appears twice")
        names.add(name)
        tools.append(Tool(name, schema))
    return tuple(tools)


def _tool_choice(raw: Any, tools: Sequence[Tool], declared: bool) -> ToolChoice:
    if raw is None:
        return ToolChoice("auto", None, True)
    if not isinstance(raw, Mapping) or raw.get("type") not in ("auto", "any", "tool", "none"):
        raise invalid(
            f"tool_choice: {_show(raw)} is invalid; expected an object whose type is "
            "'auto', 'any', 'tool' or 'none'"
        )
    kind = raw["type"]
    parallel = raw.get("disable_parallel_tool_use", False)
    if not isinstance(parallel, bool):
        raise invalid(
            f"tool_choice.disable_parallel_tool_use: expected a boolean, got {parallel!r}"
        )
    if kind in ("any", "tool") and not declared:
        raise invalid(f"tool_choice: type {kind!r} needs `tools`; none were provided")
    name = raw.get("name")
    if kind == "tool" and name not in {t.name for t in tools}:
        raise invalid(
            f"tool_choice.name: tool {_show(name)} not found in the provided tools "
            f"{sorted(t.name for t in tools)}"
        )
    return ToolChoice(kind, name if kind == "tool" else None, not parallel)


def _markers(value: Any) -> int:
    if isinstance(value, Mapping):
        own = 1 if isinstance(value.get("cache_control"), Mapping) else 0
        return own + sum(_markers(v) for k, v in value.items() if k != "cache_control")
    if isinstance(value, list):
        return sum(_markers(v) for v in value)
    return 0


def parse_messages_request(body: Any) -> MessagesRequest:
    if not isinstance(body, Mapping):
        raise invalid(f"The request body must be a JSON object, got {_show(body)}")
    extra = sorted(set(body) - _FIELDS)
    if extra:
        raise invalid(f"{extra[0]}: Extra inputs are not permitted")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model: Field required")
    max_tokens = body.get("max_tokens")
    if max_tokens is None:
        raise invalid("max_tokens: Field required")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise invalid(f"max_tokens: {_show(max_tokens)} is invalid; expected an integer >= 1")
    _messages(body.get("messages"))
    known = find_model(model)
    if known is None:
        raise AnthropicError(404, f"model: {model}")
    if max_tokens > known.max_output:
        raise invalid(
            f"max_tokens: {max_tokens} > {known.max_output}, which is the maximum allowed "
            f"number of output tokens for {model}"
        )
    if "system" in body:
        _text_blocks(body["system"], "system")
    stops = body.get("stop_sequences")
    if stops is not None and (
        not isinstance(stops, list) or not all(isinstance(s, str) and s.strip() for s in stops)
    ):
        raise invalid(
            f"stop_sequences: {_show(stops)} is invalid; expected a list of strings, each "
            "with at least one non-whitespace character"
        )
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise invalid(f"stream: expected a boolean, got {_show(stream)}")
    _number(body, "temperature", 0.0, 1.0)
    _number(body, "top_p", 0.0, 1.0)
    _number(body, "top_k", 0, None)
    if "metadata" in body and not isinstance(body["metadata"], Mapping):
        raise invalid(f"metadata: expected an object, got {_show(body['metadata'])}")
    markers = _markers(body.get("tools")) + _markers(body.get("system"))
    markers += _markers(body.get("messages")) + (1 if "cache_control" in body else 0)
    if markers > _MAX_MARKERS:
        raise invalid(
            f"A maximum of {_MAX_MARKERS} blocks with cache_control may be provided. "
            f"Found {markers}."
        )
    tools = _tools(body.get("tools"))
    choice = _tool_choice(body.get("tool_choice"), tools, bool(body.get("tools")))
    messages: list[Mapping[str, Any]] = body["messages"]
    last = messages[-1]
    return MessagesRequest(
        body=body,
        model=model,
        max_tokens=max_tokens,
        stream=stream,
        tools=tools,
        tool_choice=choice,
        stop_sequences=tuple(stops or ()),
        answers_tool_results=last.get("role") == "user"
        and bool(_ids(last.get("content"), "tool_result", "tool_use_id")),
    )
