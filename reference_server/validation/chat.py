"""Request rules for chat completions and responses, from the official spec.

Each ``validate_*`` takes the parsed body and raises a 400 :class:`GatewayError` naming the
``param`` and the offending value, or returns nothing. First the body must match its request
schema in ``spec/openai.yaml`` (``schemas.conform``: types, nullability, enums,
lengths, union members), so the hand-written rules after it only ever see bodies of the
described shape; they add OpenAI's wording for common mistakes and the cross-field rules no
schema states. Unknown extra parameters are tolerated (a gateway in front of many upstreams
passes them on). The other endpoints' rules are in ``media.py``.

Must not: do I/O, or touch the catalog (model existence is ``gateway/aliases.py``'s job).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reference_server.errors import invalid_request
from reference_server.validation.fields import (
    ROLES,
    TOOL_NAME,
    UNSET,
    boolean,
    choice,
    model_field,
    number,
    object_field,
    string,
    wrong_type,
)
from reference_server.validation.schemas import conform

__all__ = ["validate_chat", "validate_responses"]


def _message(index: int, message: Any) -> None:
    where = f"messages[{index}]"
    if not isinstance(message, dict):
        raise wrong_type(where, message, "an object")
    role = message.get("role")
    if role is None:
        raise invalid_request(
            f"Missing required parameter: '{where}.role'.",
            f"{where}.role",
            "missing_required_parameter",
        )
    if role not in ROLES:
        raise invalid_request(
            f"Invalid value for '{where}.role': {role!r}. Supported values are: {', '.join(repr(r) for r in ROLES)}.",
            f"{where}.role",
            "invalid_value",
        )
    content = message.get("content", UNSET)
    if content is UNSET or content is None:
        if role in ("user", "system", "developer", "tool") or (
            role == "assistant" and not message.get("tool_calls")
        ):
            raise invalid_request(
                f"Missing required parameter: '{where}.content'.",
                f"{where}.content",
                "missing_required_parameter",
            )
    elif isinstance(content, list):
        for n, part in enumerate(content):
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise invalid_request(
                    f"Invalid '{where}.content[{n}]': expected a content part object with a 'type'.",
                    f"{where}.content[{n}]",
                    "invalid_type",
                )
    elif not isinstance(content, str):
        raise wrong_type(f"{where}.content", content, "a string or an array of content parts")
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        raise invalid_request(
            f"Missing required parameter: '{where}.tool_call_id'.",
            f"{where}.tool_call_id",
            "missing_required_parameter",
        )


def _tools(body: Mapping[str, Any], responses: bool = False) -> list[str]:
    tools = body.get("tools")
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise wrong_type("tools", tools, "an array")
    names = []
    for n, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            raise invalid_request(
                f"Invalid 'tools[{n}]': expected an object with a 'type'.",
                f"tools[{n}]",
                "invalid_type",
            )
        if tool["type"] != "function":
            continue
        function = tool if responses else tool.get("function")
        if not isinstance(function, dict):
            raise invalid_request(
                f"Missing required parameter: 'tools[{n}].function'.",
                f"tools[{n}].function",
                "missing_required_parameter",
            )
        name = function.get("name")
        param = f"tools[{n}].name" if responses else f"tools[{n}].function.name"
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise invalid_request(
                f"Invalid '{param}': {name!r} must match ^[a-zA-Z0-9_-]{{1,64}}$.",
                param,
                "invalid_value",
            )
        parameters = function.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise wrong_type(param.rsplit(".", 1)[0] + ".parameters", parameters, "an object")
        names.append(name)
    return names


def _tool_choice(body: Mapping[str, Any], names: list[str], responses: bool = False) -> None:
    value = body.get("tool_choice")
    if value is None:
        return
    if isinstance(value, str):
        choice(body, "tool_choice", ("none", "auto", "required"))
        if value != "none" and not body.get("tools"):
            raise invalid_request(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                "tool_choice",
                "invalid_value",
            )
        return
    if not isinstance(value, dict):
        raise wrong_type("tool_choice", value, "a string or an object")
    if value.get("type") != "function":
        return  # allowed_tools, custom and hosted tool choices pass through
    function = value if responses else value.get("function")
    name = function.get("name") if isinstance(function, dict) else None
    if name not in names:
        raise invalid_request(
            f"Invalid value for 'tool_choice': function {name!r} is not among the declared tools {names!r}.",
            "tool_choice",
            "invalid_value",
        )


# Ranges from the official spec's CreateChatCompletionRequest: (minimum, maximum, integer?).
_CHAT_NUMBERS: dict[str, tuple[float, float, bool]] = {
    "temperature": (0, 2, False),
    "top_p": (0, 1, False),
    "n": (1, 128, True),
    "presence_penalty": (-2, 2, False),
    "frequency_penalty": (-2, 2, False),
    "top_logprobs": (0, 20, True),
    "max_tokens": (1, 2**31 - 1, True),
    "max_completion_tokens": (1, 2**31 - 1, True),
    "seed": (-(2**63), 2**63 - 1, True),
}
# Closed enums of the official spec (ReasoningEffort, ServiceTier, Verbosity).
_REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
_CHAT_ENUMS: dict[str, tuple[str, ...]] = {
    "reasoning_effort": _REASONING_EFFORTS,
    "service_tier": ("auto", "default", "flex", "scale", "priority", "fast"),
    "verbosity": ("low", "medium", "high"),
}
_CHAT_BOOLEANS = frozenset(("stream", "logprobs", "parallel_tool_calls", "store"))


def validate_chat(body: Mapping[str, Any]) -> None:
    conform(body, "CreateChatCompletionRequest")
    model_field(body)
    messages = body.get("messages")
    if messages is None:
        raise invalid_request(
            "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"
        )
    if not isinstance(messages, list):
        raise wrong_type("messages", messages, "an array")
    if not messages:
        raise invalid_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            "messages",
            "empty_array",
        )
    for index, message in enumerate(messages):
        _message(index, message)
    # Only the keys present are checked: the common request carries two or three of them.
    for name in body.keys() & _CHAT_NUMBERS.keys():
        low, high, integer = _CHAT_NUMBERS[name]
        number(body, name, low, high, integer=integer)
    for name in body.keys() & _CHAT_BOOLEANS:
        boolean(body, name)
    if body.get("top_logprobs") and not body.get("logprobs"):
        raise invalid_request(
            "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.",
            "top_logprobs",
            "invalid_value",
        )
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, str):
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise wrong_type("stop", stop, "a string or an array of strings")
        if len(stop) > 4:
            raise invalid_request(
                f"Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length {len(stop)} instead.",
                "stop",
                "array_above_max_length",
            )
    options = object_field(body, "stream_options")
    if options is not None and not body.get("stream"):
        raise invalid_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
            "invalid_value",
        )
    if options is not None:
        boolean(options, "include_usage")
    bias = object_field(body, "logit_bias")
    for token, value in (bias or {}).items():
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not -100 <= value <= 100
        ):
            raise invalid_request(
                f"Invalid 'logit_bias[{token}]': {value!r} must be a number between -100 and 100.",
                "logit_bias",
                "invalid_value",
            )
    for name, values in _CHAT_ENUMS.items():
        if name in body:
            choice(body, name, values)
    if "tools" in body or "tool_choice" in body:
        _tool_choice(body, _tools(body))
    fmt = object_field(body, "response_format")
    if fmt is not None:
        choice(fmt, "type", ("text", "json_object", "json_schema"))
        if fmt.get("type") is None:
            raise invalid_request(
                "Missing required parameter: 'response_format.type'.",
                "response_format.type",
                "missing_required_parameter",
            )
        if fmt["type"] == "json_schema":
            spec = fmt.get("json_schema")
            if not isinstance(spec, dict):
                raise invalid_request(
                    "Missing required parameter: 'response_format.json_schema'.",
                    "response_format.json_schema",
                    "missing_required_parameter",
                )
            schema_name = spec.get("name")
            if not isinstance(schema_name, str) or not TOOL_NAME.match(schema_name):
                raise invalid_request(
                    f"Invalid 'response_format.json_schema.name': {schema_name!r} must match ^[a-zA-Z0-9_-]{{1,64}}$.",
                    "response_format.json_schema.name",
                    "invalid_value",
                )
            if spec.get("schema") is not None and not isinstance(spec["schema"], dict):
                raise wrong_type("response_format.json_schema.schema", spec["schema"], "an object")
    string(body, "user")
    object_field(body, "metadata")


def validate_responses(body: Mapping[str, Any]) -> None:
    conform(body, "CreateResponse")
    model_field(body)
    raw = body.get("input")
    if raw is None:
        raise invalid_request(
            "Missing required parameter: 'input'.", "input", "missing_required_parameter"
        )
    if not isinstance(raw, str | list):
        raise wrong_type("input", raw, "a string or an array of input items")
    if isinstance(raw, list):
        for n, item in enumerate(raw):
            if not isinstance(item, dict):
                raise wrong_type(f"input[{n}]", item, "an object")
    if body.get("previous_response_id") is not None:
        raise invalid_request(
            "Invalid 'previous_response_id': this gateway is stateless and stores no responses (store is false).",
            "previous_response_id",
            "unsupported_parameter",
        )
    string(body, "instructions")
    number(body, "temperature", 0, 2)
    number(body, "top_p", 0, 1)
    number(body, "max_output_tokens", 16, 2**31 - 1, integer=True)
    for name in ("stream", "store", "parallel_tool_calls", "background"):
        boolean(body, name)
    reasoning = object_field(body, "reasoning")
    if reasoning is not None:
        choice(reasoning, "effort", _REASONING_EFFORTS)
    names = _tools(body, responses=True)
    _tool_choice(body, names, responses=True)
    text = object_field(body, "text")
    fmt = text.get("format") if text else None
    if fmt is not None:
        if not isinstance(fmt, dict):
            raise wrong_type("text.format", fmt, "an object")
        choice(fmt, "type", ("text", "json_object", "json_schema"))
    object_field(body, "metadata")
