"""Deterministic chat completions for the fake server, JSON and SSE, with every knob applied.

Text comes from the last user message ("Count from 1 to N", "Repeat exactly, nothing else:
X", "Write a long story"), one token per word, so caps, stop sequences and usage are exact.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from tests.conformance.fakes.base import MODELS, Knobs, _headers, error, json_response

__all__ = ["chat_completion"]

_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
# CreateChatCompletionRequest properties (official spec) the fake knows.
_KNOWN = {
    "model", "messages", "max_tokens", "max_completion_tokens", "n", "stop", "stream",
    "stream_options", "temperature", "top_p", "tools", "tool_choice", "parallel_tool_calls",
    "response_format", "logprobs", "top_logprobs", "seed", "user", "metadata", "store",
    "frequency_penalty", "presence_penalty", "logit_bias", "modalities", "audio",
    "reasoning_effort", "service_tier", "prediction", "web_search_options", "functions",
    "function_call", "verbosity", "prompt_cache_key", "safety_identifier",
}  # fmt: skip


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _words(prompt: str) -> list[str]:
    if prompt.startswith("Count from 1 to "):
        top = int(prompt.removeprefix("Count from 1 to ").split(",")[0])
        return [str(i) for i in range(1, top + 1)]
    if prompt.startswith("Repeat exactly, nothing else: "):
        return prompt.removeprefix("Repeat exactly, nothing else: ").split()
    if prompt.startswith("Write a long story"):
        return ["wave"] * 100
    return ["Hello", "there", "friend."]


def _schema_value(schema: dict[str, Any], drop_one: bool) -> Any:
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        value = {k: _schema_value(v, False) for k, v in props.items()}
        if drop_one and value:
            value.pop(next(iter(value)))
        return value
    return {"string": "Paris", "number": 2.1, "integer": 2, "boolean": True}.get(kind)


# The documented bounds (official spec, CreateChatCompletionRequest): minimum/maximum of the
# sampling parameters, logit_bias values "from -100 to 100", token caps of at least 1.
_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "temperature": (0, 2),
    "top_p": (0, 1),
    "presence_penalty": (-2, 2),
    "frequency_penalty": (-2, 2),
    "n": (1, 128),
    "top_logprobs": (0, 20),
    "max_completion_tokens": (1, None),
    "max_tokens": (1, None),
}


def _out_of_range(knobs: Knobs, body: dict[str, Any]) -> tuple[str, Any] | None:
    """The first parameter past its documented bound that this variant checks."""
    values = {k: body.get(k) for k in _BOUNDS}
    biases = body.get("logit_bias")
    for name, value in values.items():
        if name in knobs.unchecked_ranges or not isinstance(value, int | float):
            continue
        low, high = _BOUNDS[name]
        if (low is not None and value < low) or (high is not None and value > high):
            return name, value
    if isinstance(biases, dict) and "logit_bias" not in knobs.unchecked_ranges:
        for value in biases.values():
            if not isinstance(value, int) or not -100 <= value <= 100:
                return "logit_bias", value
    return None


def _validate(knobs: Knobs, request: Request, body: Any) -> Response | None:
    def bad(status: int, message: str, param: str | None) -> Response:
        return error(knobs, request, status, message, param=param, chat=True)

    if not isinstance(body, dict):
        return bad(400, "The body must be a JSON object.", None)
    if knobs.reject_unknown_422 and set(body) - _KNOWN:
        return json_response(knobs, request, {"detail": [{"msg": "extra fields"}]}, 422)
    if knobs.default_model is not None and "model" not in body:
        body["model"] = knobs.default_model
    if not isinstance(body.get("model"), str):
        return bad(400, "you must provide a model parameter", "model")
    messages = body.get("messages")
    if messages is None:
        return bad(knobs.missing_status, "Missing required parameter: 'messages'.", "messages")
    if not isinstance(messages, list) or not messages:
        return bad(knobs.wrong_type_status, "'messages' must be a non-empty array.", "messages")
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            return bad(400, f"Invalid message {message!r}.", "messages")
        if knobs.reject_developer and message["role"] == "developer":
            return bad(400, "Unknown role 'developer'.", "messages")
        if knobs.reject_parts and isinstance(message.get("content"), list):
            return bad(400, "content must be a string.", "messages")
        if knobs.reject_tool_messages and message["role"] == "tool":
            return bad(400, "tool messages are not supported.", "messages")
    past = _out_of_range(knobs, body) if knobs.range_check else None
    if past is not None:
        return bad(400, f"Invalid '{past[0]}': {past[1]!r} is out of range.", past[0])
    n = body.get("n", 1)
    if not isinstance(n, int) or n < 1:
        return bad(400, f"{n!r} is less than the minimum of 1", "n")
    return None


def _plan(knobs: Knobs, body: dict[str, Any]) -> dict[str, Any]:
    """What the model 'says': text words or tool calls, and why it stopped."""
    messages = body["messages"]
    prompt = _text(messages[-1].get("content"))
    tools = body.get("tools") or []
    choice = body.get("tool_choice", "auto" if tools else "none")
    answered = any(m.get("role") == "tool" for m in messages)
    calls: list[dict[str, Any]] = []
    if tools and not answered and (choice != "none" or knobs.call_under_none):
        names = [t["function"]["name"] for t in tools]
        if isinstance(choice, dict) and not knobs.ignore_named:
            names = [choice["function"]["name"]]
        elif "both" not in prompt or body.get("parallel_tool_calls") is False:
            names = names[:1]
        strict = any(t["function"].get("strict") for t in tools)
        arguments = '{"city": "Paris"}'
        if knobs.bad_arguments == ("strict" if strict else "plain"):
            arguments = '{"city": "Par'
        for number, name in enumerate(names):
            call_id = f"{knobs.tool_id_prefix}{'dup' if knobs.parallel_dup_ids else number}x7"
            calls.append({"id": call_id, "name": name, "arguments": arguments})
    if calls:
        named = isinstance(choice, dict)
        return {"calls": calls, "words": [], "finish": "stop" if named else "tool_calls"}
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_object":
        text = '{"ok": true}'
        if knobs.json_fences:
            text = f"```json\n{text}\n```"
        return {"calls": [], "words": [text], "finish": "stop"}
    if fmt.get("type") == "json_schema":
        value = _schema_value(fmt["json_schema"]["schema"], knobs.schema_missing_field)
        return {"calls": [], "words": [json.dumps(value)], "finish": "stop"}
    words = _words(prompt) if not answered else ["It", "is", "18", "C."]
    if knobs.fixed_text is not None:
        words = knobs.fixed_text.split()
    finish = "stop"
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    if stops and not knobs.ignore_stop:
        for position, word in enumerate(words):
            if any(s in word for s in stops):
                words = words[:position]
                break
    cap = None
    if body.get("max_tokens") is not None and not knobs.ignore_max_tokens:
        cap = body["max_tokens"]
    if body.get("max_completion_tokens") is not None and not knobs.ignore_max_completion_tokens:
        cap = body["max_completion_tokens"]
    if cap is not None and len(words) > cap:
        words, finish = words[:cap], "length"
    return {"calls": [], "words": words, "finish": finish}


def _prompt_tokens(body: dict[str, Any]) -> int:
    return sum(len(_text(m.get("content")).split()) + 3 for m in body["messages"])


def _usage(knobs: Knobs, prompt: int, completion: int, off: int = 0) -> dict[str, Any]:
    if knobs.flat_usage:
        prompt, completion = 10, 5
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion + off,
    }
    if knobs.vendor_fields:
        usage["x_vendor_cost"] = 0.0001
    return usage


def _logprobs(knobs: Knobs, words: list[str], top: int) -> dict[str, Any]:
    value = 0.5 if knobs.positive_logprob else -0.25
    entries = []
    for word in words:
        alternatives = [
            {"token": f"{word}{i}", "logprob": -1.0 - i, "bytes": list(f"{word}{i}".encode())}
            for i in range(top)
        ]
        entries.append(
            {
                "token": word,
                "logprob": value,
                "bytes": list(word.encode()),
                "top_logprobs": alternatives,
            }
        )
    return {"content": entries, "refusal": None}


async def chat_completion(knobs: Knobs, request: Request) -> Response:
    declared = int(request.headers.get("content-length", "0"))
    if knobs.oversize_early_close and declared > knobs.max_body:
        response = error(knobs, request, 413, "Request body too large.", code="request_too_large")
        response.headers["connection"] = "close"
        return response  # answered without reading the body
    raw = await request.body()
    if len(raw) > knobs.max_body:
        if knobs.oversize_html_500:
            return Response("<html>Internal Server Error</html>", 500, media_type="text/html")
        return error(knobs, request, 413, "Request body too large.", code="request_too_large")
    auth = request.headers.get("authorization")
    refused = (auth is None and not knobs.auth_missing_ok) or (
        auth is not None and auth != "Bearer sk-fake-good" and not knobs.auth_invalid_ok
    )
    if refused and knobs.auth_error_platform:
        payload = {"errors": [{"message": "Not Authenticated", "extensions": {"code": "UNAUTH"}}]}
        return json_response(knobs, request, payload, 401)
    if refused:
        message = "You didn't provide an API key." if auth is None else "Incorrect API key."
        return error(knobs, request, 401, message, code="invalid_api_key", chat=True)
    try:
        body = json.loads(raw)
    except ValueError:
        return error(
            knobs, request, knobs.malformed_status, "We could not parse the JSON body.", chat=True
        )
    refused = knobs.refuse_params & set(body if isinstance(body, dict) else ())
    if refused:
        name = sorted(refused)[0]
        return error(knobs, request, 400, f"Unsupported parameter: '{name}'.", param=name)
    refusal = _validate(knobs, request, body)
    if refusal is not None:
        return refusal
    if knobs.refuse_strict and any(
        isinstance(t, dict) and t.get("function", {}).get("strict") for t in body.get("tools") or []
    ):
        return error(
            knobs, request, 400, "strict function calling is not supported.", param="tools"
        )
    if body["model"] not in MODELS:
        message = f"The model `{body['model']}` does not exist or you do not have access to it."
        if body.get("stream") and knobs.stream_unknown_as_sse:
            event = json.dumps({"error": {"message": message, "type": "invalid_request_error"}})
            return Response(
                f"data: {event}\n\n", media_type="text/event-stream", headers=_headers(knobs)
            )
        return error(
            knobs, request, knobs.unknown_model_status, message, code="model_not_found", chat=True
        )
    plan = _plan(knobs, body)
    wants_sse = knobs.sse_on_accept and "text/event-stream" in request.headers.get("accept", "")
    if body.get("stream") or wants_sse:
        usage_asked = bool((body.get("stream_options") or {}).get("include_usage"))
        if usage_asked and knobs.stream_usage_status != 200:
            return error(knobs, request, knobs.stream_usage_status, "stream failed", "server_error")
        from tests.conformance.fakes.chat_stream import stream_events

        events = stream_events(knobs, body, plan, _prompt_tokens(body), usage_asked)
        return StreamingResponse(
            _wire(knobs, events),
            media_type=knobs.stream_content_type,
            headers=_headers(knobs),
        )
    basic = set(body) == {"model", "messages", "max_completion_tokens"} and _text(
        body["messages"][-1].get("content")
    ).startswith("Count from")
    if knobs.fail_basic and basic:
        return error(knobs, request, 500, "The server had an error.", "server_error")
    return _completion(knobs, request, body, plan)


def _completion(
    knobs: Knobs, request: Request, body: dict[str, Any], plan: dict[str, Any]
) -> Response:
    choices = []
    n = 1 if knobs.ignore_n else body.get("n", 1)
    required = body.get("tool_choice") == "required"
    for index in range(n):
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        finish = plan["finish"]
        if plan["calls"] and required and knobs.required_no_call:
            message["content"], finish = "I will not call tools.", "stop"
        elif plan["calls"]:
            message["tool_calls"] = [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {
                        "name": call["name"],
                        "arguments": json.loads(call["arguments"])
                        if knobs.args_object
                        else call["arguments"],
                    },
                }
                for call in plan["calls"]
            ]
            if knobs.tools_finish_stop and required:
                finish = "stop"
        else:
            message["content"] = " ".join(plan["words"])
        choice: dict[str, Any] = {
            "index": index,
            "message": message,
            "logprobs": _logprobs(knobs, plan["words"], body.get("top_logprobs") or 0)
            if body.get("logprobs")
            else None,
            "finish_reason": finish,
        }
        if knobs.vendor_fields:
            choice["x_vendor_score"] = 1
            message["x_vendor_reasoning"] = None
        choices.append(choice)
    completion_tokens = n * max(len(plan["words"]), 8 if plan["calls"] else 0)
    payload: dict[str, Any] = {
        "id": f"{knobs.id_prefix}{uuid.uuid4().hex}",
        "object": knobs.completion_object,
        "created": int(time.time() * (1000 if knobs.completion_created_ms else 1)),
        "model": body["model"],
        "choices": choices,
        "usage": _usage(knobs, _prompt_tokens(body), completion_tokens, knobs.usage_total_off),
        "system_fingerprint": 123 if knobs.completion_fingerprint_int else "fp_fake",
    }
    if knobs.vendor_fields:
        payload["x_vendor"] = {"provider": "fake"}
    if knobs.mutate_completion is not None:
        payload = knobs.mutate_completion(payload)
    return json_response(knobs, request, payload, media_type=knobs.completion_content_type)


async def _wire(knobs: Knobs, events: list[bytes]) -> AsyncIterator[bytes]:
    """Write the encoded events: paced by ``itl``, buffered, or one byte at a time."""
    if knobs.buffered is not None:
        await asyncio.sleep(knobs.buffered)
        yield b"".join(events)
        return
    for number, event in enumerate(events):
        if number and knobs.itl:
            await asyncio.sleep(knobs.itl)
        if knobs.byte_writes:
            for byte in event:
                yield bytes([byte])
        else:
            yield event
