"""A Responses API request read as the chat completion request it amounts to.

The ``anthropic`` provider translates chat requests to Messages (``anthropic_request``); a
Responses request (OpenAI API reference, "Responses": ``CreateResponse``) is first read here
as one, keeping what a translation needs that ``reference_server.tokens.input_messages`` (an
estimate for admission) drops, such as the ``call_id`` pairing calls and outputs:

* ``instructions`` -> a leading ``system`` message; ``input`` as a string -> one user message;
* ``message`` items keep their role; parts ``input_text`` / ``output_text`` -> ``text``,
  ``refusal`` -> ``text``, ``input_image`` with an ``image_url`` -> ``image_url``,
  ``input_file`` with ``file_data`` -> ``file``;
* ``function_call`` items -> assistant ``tool_calls`` (id = ``call_id``);
  ``function_call_output`` -> ``tool`` messages; ``reasoning`` items are skipped (the summary
  of an earlier turn, which Anthropic does not take back as input);
* ``tools`` (flat ``function`` tools) and ``tool_choice`` (``{"type": "function", "name"}``,
  ``allowed_tools``) -> their chat shapes; ``text.format`` -> ``response_format``;
  ``max_output_tokens`` -> ``max_completion_tokens``; ``temperature``, ``top_p``,
  ``parallel_tool_calls``, ``user`` and ``safety_identifier`` as they are.

Anything else that cannot be read (``item_reference`` and other item types, images by
``file_id``) is refused with a 400 naming the item.

Must not: do I/O, or know Anthropic's shapes (``anthropic_request`` does).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reference_server.providers.anthropic_errors import refusal

__all__ = ["responses_as_chat"]

_PASSED = ("temperature", "top_p", "parallel_tool_calls", "user", "safety_identifier", "stream")


def _part(part: Any, param: str) -> dict[str, Any]:
    kind = part.get("type") if isinstance(part, Mapping) else None
    if kind in ("input_text", "output_text"):
        return {"type": "text", "text": str(part.get("text") or "")}
    if kind == "refusal":
        return {"type": "text", "text": str(part.get("refusal") or "")}
    if kind == "input_image" and isinstance(part.get("image_url"), str):
        return {"type": "image_url", "image_url": {"url": part["image_url"]}}
    if kind == "input_file" and isinstance(part.get("file_data"), str):
        return {"type": "file", "file": {"file_data": part["file_data"]}}
    raise refusal(
        param,
        f"{param}: {kind!r} parts cannot be sent to an Anthropic model (images and files must "
        "be given inline, not by file_id)",
    )


def _content(content: Any, param: str) -> Any:
    if isinstance(content, str) or content is None:
        return content
    return [_part(part, f"{param}[{index}]") for index, part in enumerate(content)]


def _output(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # output parts: text ones as text
        return [
            {"type": "text", "text": str(p.get("text") or "")}
            for p in value
            if isinstance(p, Mapping) and p.get("type") in ("input_text", "output_text")
        ]
    return json.dumps(value)


def _items(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, str):
        return [{"role": "user", "content": raw}]
    messages: list[dict[str, Any]] = []
    for index, item in enumerate(raw or ()):
        param = f"input[{index}]"
        kind = item.get("type", "message")
        if kind == "message":
            content = _content(item.get("content"), f"{param}.content")
            messages.append({"role": item.get("role", "user"), "content": content})
        elif kind == "function_call":
            call = {
                "id": item.get("call_id"),
                "type": "function",
                "function": {"name": item.get("name"), "arguments": item.get("arguments")},
            }
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = _output(item.get("output"))
            messages.append(
                {"role": "tool", "tool_call_id": item.get("call_id"), "content": output}
            )
        elif kind != "reasoning":
            raise refusal(
                f"{param}.type",
                f"{param}.type: {kind!r} items cannot be sent to an Anthropic model "
                "(this gateway keeps no state between responses)",
            )
    return messages


def _tools(raw: Any) -> list[dict[str, Any]]:
    tools = []
    for index, tool in enumerate(raw or ()):
        if tool.get("type") != "function":
            raise refusal(
                f"tools[{index}].type",
                f"tools[{index}]: only function tools can be offered to an Anthropic model, "
                f"not {tool.get('type')!r}",
            )
        function = {k: tool[k] for k in ("name", "description", "parameters") if k in tool}
        tools.append({"type": "function", "function": function})
    return tools


def _tool_choice(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    if value.get("type") == "function":
        return {"type": "function", "function": {"name": value.get("name")}}
    if value.get("type") == "allowed_tools":
        tools = [{"function": {"name": t.get("name")}} for t in value.get("tools") or ()]
        return {
            "type": "allowed_tools",
            "allowed_tools": {"mode": value.get("mode"), "tools": tools},
        }
    return value


def _format(text: Any) -> dict[str, Any] | None:
    fmt = text.get("format") if isinstance(text, Mapping) else None
    if not isinstance(fmt, Mapping):
        return None
    if fmt.get("type") == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": fmt.get("name"), "schema": fmt.get("schema")},
        }
    if fmt.get("type") == "json_object":
        return {"type": "json_object"}
    return None


def responses_as_chat(body: Mapping[str, Any]) -> dict[str, Any]:
    """The chat request a validated Responses request ``body`` amounts to."""
    messages = []
    if isinstance(body.get("instructions"), str) and body["instructions"]:
        messages.append({"role": "system", "content": body["instructions"]})
    messages.extend(_items(body.get("input")))
    chat: dict[str, Any] = {"messages": messages}
    for name in _PASSED:
        if body.get(name) is not None:
            chat[name] = body[name]
    if body.get("tools"):
        chat["tools"] = _tools(body["tools"])
    if body.get("tool_choice") is not None:
        chat["tool_choice"] = _tool_choice(body["tool_choice"])
    response_format = _format(body.get("text"))
    if response_format is not None:
        chat["response_format"] = response_format
    if body.get("max_output_tokens") is not None:
        chat["max_completion_tokens"] = body["max_output_tokens"]
    return chat
