"""Text endpoints of the breadth fake: chat (minimal), embeddings, responses (JSON and SSE).

Written from OpenAI's API reference (CreateChatCompletionResponse and chunks,
CreateEmbeddingResponse, Response and ResponseStreamEvent). Deterministic: text and vectors
are functions of the request. Broken knobs are named where they bend a rule.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from tests.conformance.fakes.breadth import (
    CATALOG,
    DEFAULT_MODEL,
    BreadthKnobs,
    base_headers,
    error,
    metering_headers,
    new_id,
    respond,
    serves,
)

__all__ = ["chat", "embeddings", "responses", "sse"]

_WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
]
_DIMS = 64
_seen: dict[tuple[BreadthKnobs, str, str, Any], int] = {}


def words_for(seed: str, count: int) -> list[str]:
    digest = hashlib.sha256(seed.encode()).digest()
    return [_WORDS[digest[i] % len(_WORDS)] for i in range(count)]


def _sdk(request: Request) -> bool:
    return "x-stainless-lang" in request.headers


def sse(knobs: BreadthKnobs, events: list[tuple[str | None, str]]) -> StreamingResponse:
    """Frame ``(event name, data)`` pairs as server-sent events, with the variant's quirks."""
    end = "\r\n" if knobs.quirk("sse_crlf") else "\n"
    colon = ":" if knobs.quirk("sse_no_space") else ": "

    async def body() -> AsyncIterator[bytes]:
        for name, data in events:
            text = f": keep-alive{end}{end}" if knobs.quirk("sse_comments") else ""
            if name is not None:
                text += f"event{colon}{name}{end}"
            text += f"data{colon}{data}{end}{end}"
            raw = text.encode()
            step = 5 if knobs.quirk("split_writes") else len(raw)
            for start in range(0, len(raw), step):
                yield raw[start : start + step]

    return StreamingResponse(body(), headers=base_headers(knobs), media_type="text/event-stream")


def _value_for(schema: Any) -> Any:
    """A value valid under a (simple) JSON schema: objects, arrays, scalars, enums."""
    if not isinstance(schema, dict):
        return "value"
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        return {k: _value_for(v) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [_value_for(schema.get("items", {}))]
    return {"integer": 1, "number": 1.5, "boolean": True, "null": None}.get(str(kind), "Paris")


async def chat(knobs: BreadthKnobs, request: Request) -> Response:
    try:
        body = await request.json()
    except ValueError:
        return error(knobs, request, 400, "We could not parse the JSON body.")
    model = body.get("model") or DEFAULT_MODEL
    if knobs.broken("default_wrong") and "model" not in body:
        model = "fake-chat"
    if not serves(model, "chat"):
        return error(knobs, request, 404, f"The model {model!r} does not exist.", param="model")
    if knobs.broken("alias_uncallable") and model == "monday-fast":
        return error(knobs, request, 503, "No deployment serves this alias.", type_="server_error")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return error(knobs, request, 400, "messages is required.", param="messages")
    prompt = sum(len(str(m.get("content", "")).split()) for m in messages) + 3
    cap = body.get("max_completion_tokens") or body.get("max_tokens") or 16
    text = " ".join(words_for(json.dumps(messages), min(cap, 6)))
    finish = "length" if cap < 6 else "stop"
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        message["content"] = json.dumps(_value_for(fmt["json_schema"].get("schema")))
        if knobs.broken("sdk_chat_parse") and _sdk(request):
            message["content"] = "{not json"
    tools, choice = body.get("tools") or [], body.get("tool_choice")
    if tools and (choice == "required" or isinstance(choice, dict)):
        name = (
            choice["function"]["name"] if isinstance(choice, dict) else tools[0]["function"]["name"]
        )
        function = next(t["function"] for t in tools if t["function"]["name"] == name)
        arguments = json.dumps(_value_for(function.get("parameters")))
        if knobs.broken("sdk_chat_tools") and _sdk(request):
            arguments = arguments[:-1]
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": new_id(knobs, "call"),
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
        ]
        finish = "tool_calls"
    completion = len(str(message["content"] or message.get("tool_calls")).split())
    if knobs.broken("usage_zero"):
        prompt = completion = 0
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    shown = (
        "claude-sonnet-4-6" if knobs.quirk("resolved_model") and model == DEFAULT_MODEL else model
    )
    headers = metering_headers(prompt, completion)
    if knobs.broken("credits_missing"):
        del headers["x-monday-credits-used"]
    if knobs.broken("credits_flat"):
        headers["x-monday-credits-used"] = "0.001"
    if knobs.broken("ratelimit_missing"):
        del headers["x-ratelimit-remaining-requests"]
    base = {"id": new_id(knobs, "chatcmpl"), "created": int(time.time()), "model": shown}
    if body.get("stream"):
        return _chat_stream(knobs, request, body, base, text, usage)
    if knobs.broken("sdk_chat_create") and _sdk(request) and not tools and not fmt:
        return Response("upstream said: fine", media_type="text/plain")
    payload = base | {
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": usage,
    }
    return respond(knobs, request, payload, headers=headers)


def _chat_stream(
    knobs: BreadthKnobs,
    request: Request,
    body: dict[str, Any],
    base: dict[str, Any],
    text: str,
    usage: dict[str, int],
) -> Response:
    chunk = base | {"object": "chat.completion.chunk"}
    events: list[tuple[str | None, str]] = []

    def emit(delta: dict[str, Any], finish: str | None = None) -> None:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        events.append((None, json.dumps(chunk | {"choices": [choice]})))

    emit({"role": "assistant", "content": ""})
    for word in text.split():
        emit({"content": word + " "})
    emit({}, "stop")
    if (body.get("stream_options") or {}).get("include_usage") and not knobs.broken(
        "stream_no_usage"
    ):
        events.append((None, json.dumps(chunk | {"choices": [], "usage": usage})))
    if knobs.broken("sdk_chat_stream") and _sdk(request):
        events.insert(1, (None, ""))
    events.append((None, "[DONE]"))
    return sse(knobs, events)


def _vector(text: str, variant: int = 0) -> list[float]:
    rng = random.Random(hashlib.sha256(f"{text}|{variant}".encode()).digest())
    raw = [rng.gauss(0, 1) for _ in range(_DIMS)]
    norm = math.sqrt(sum(x * x for x in raw))
    return [x / norm for x in raw]


async def embeddings(knobs: BreadthKnobs, request: Request) -> Response:
    body = await request.json()
    model, raw = body.get("model"), body.get("input")
    if model not in CATALOG or CATALOG[model][0] != "embedding":
        return error(knobs, request, 404, f"The model {model!r} does not exist.", param="model")
    if isinstance(raw, str) or (
        isinstance(raw, list) and raw and all(isinstance(t, int) for t in raw)
    ):
        inputs = [raw]
    elif isinstance(raw, list) and raw:
        inputs = raw
    else:
        return error(knobs, request, 400, "input must be a string or array.", param="input")
    if any(i == "" for i in inputs) and not knobs.broken("empty_accepted"):
        return error(knobs, request, 400, "input must not be empty.", param="input")
    if knobs.broken("token_arrays_500") and any(isinstance(i, list) for i in inputs):
        return error(knobs, request, 500, "tokenizer crashed", type_="server_error")
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        return error(
            knobs, request, 400, "encoding_format must be float or base64.", param="encoding_format"
        )
    dims = body.get("dimensions")
    if dims is not None and (not isinstance(dims, int) or not 1 <= dims <= _DIMS):
        return error(knobs, request, 400, f"dimensions must be 1..{_DIMS}.", param="dimensions")
    data = []
    for index, item in enumerate(inputs):
        key = json.dumps(item)
        # The nondeterministic break: every repeat of the very same request gets another vector
        # (alternating two would match again whenever a third request lands in between).
        seen = _seen.get((knobs, encoding, key, dims), 0)
        _seen[(knobs, encoding, key, dims)] = seen + 1
        variant = seen if knobs.broken("nondeterministic") and len(inputs) == 1 else 0
        vector = _vector(key, variant)
        if dims is not None and not knobs.broken("dimensions_ignored"):
            head = vector[:dims]
            norm = math.sqrt(sum(x * x for x in head))
            vector = [x / norm for x in head]
        value: Any = vector
        if encoding == "base64" and not knobs.broken("base64_ignored"):
            value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append(
            {
                "object": "vector" if knobs.broken("embedding_object") else "embedding",
                "index": index,
                "embedding": value,
            }
        )
    if knobs.broken("batch_reversed"):
        data = [item | {"index": i} for i, item in enumerate(reversed(data))]
    if knobs.broken("sdk_embeddings") and _sdk(request):
        data = []
    tokens = sum(len(json.dumps(i).split()) for i in inputs)
    payload: dict[str, Any] = {"object": "list", "data": data, "model": model}
    if not knobs.broken("embedding_usage"):
        payload["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
    return respond(knobs, request, payload, headers=metering_headers(tokens, 0))


def _response(
    knobs: BreadthKnobs, rid: str, model: str, status: str, output: list[Any], usage: Any
) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": model,
        "output": output,
        "usage": usage,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "top_p": 1.0,
        "tool_choice": "auto",
        "tools": [],
        "text": {"format": {"type": "text"}},
    }


async def responses(knobs: BreadthKnobs, request: Request) -> Response:
    body = await request.json()
    model = body.get("model")
    if not serves(model, "chat"):
        return error(knobs, request, 404, f"The model {model!r} does not exist.", param="model")
    if body.get("input") in (None, "", []):
        return error(knobs, request, 400, "input is required.", param="input")
    words = words_for(json.dumps(body["input"]), 5)
    text = " ".join(words)
    rid, mid = new_id(knobs, "resp"), new_id(knobs, "msg")
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    item = {
        "id": mid,
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [part],
    }
    prompt = len(json.dumps(body["input"]).split()) + 2
    usage: dict[str, Any] = {
        "input_tokens": prompt,
        "output_tokens": len(words),
        "total_tokens": prompt + len(words),
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    }
    stream = bool(body.get("stream"))
    if _sdk(request) and knobs.broken("sdk_responses_stream" if stream else "sdk_responses"):
        return error(knobs, request, 500, "the SDK is not welcome", type_="server_error")
    if not body.get("stream"):
        payload = _response(knobs, rid, model, "completed", [item], usage)
        if knobs.broken("response_object"):
            payload["object"] = "chat.completion"
        if knobs.broken("response_usage_sum"):
            usage["total_tokens"] += 5
        return respond(knobs, request, payload, headers=metering_headers(prompt, len(words)))
    return _responses_stream(knobs, request, rid, model, item, part, words, usage)


def _responses_stream(
    knobs: BreadthKnobs,
    request: Request,
    rid: str,
    model: str,
    item: dict[str, Any],
    part: dict[str, Any],
    words: list[str],
    usage: dict[str, Any],
) -> Response:
    events: list[dict[str, Any]] = []
    at = {"item_id": item["id"], "output_index": 0, "content_index": 0}
    start = _response(knobs, rid, model, "in_progress", [], None)
    events.append({"type": "response.created", "response": start})
    in_progress = {"type": "response.in_progress", "response": start}
    if not knobs.broken("in_progress_late"):
        events.append(in_progress)
    added = item | {"status": "in_progress", "content": []}
    events.append({"type": "response.output_item.added", "output_index": 0, "item": added})
    if knobs.broken("in_progress_late"):
        events.append(in_progress)
    events.append({"type": "response.content_part.added", **at, "part": part | {"text": ""}})
    deltas = [w if i == 0 else " " + w for i, w in enumerate(words)]
    if knobs.broken("delta_dropped"):
        deltas = deltas[:-1]
    if knobs.quirk("extra_events"):
        events.append(
            {
                "type": "response.output_text.annotation.added",
                **at,
                "annotation_index": 0,
                "annotation": {
                    "type": "url_citation",
                    "url": "https://example.test",
                    "title": "t",
                    "start_index": 0,
                    "end_index": 1,
                },
            }
        )
    events.extend(
        {"type": "response.output_text.delta", **at, "delta": d, "logprobs": []} for d in deltas
    )
    events.append({"type": "response.output_text.done", **at, "text": part["text"], "logprobs": []})
    events.append({"type": "response.content_part.done", **at, "part": part})
    events.append({"type": "response.output_item.done", "output_index": 0, "item": item})
    final = _response(knobs, rid, model, "completed", [item], usage)
    if knobs.broken("completed_no_usage"):
        final["usage"] = None
    events.append({"type": "response.completed", "response": final})
    framed: list[tuple[str | None, str]] = []
    for number, event in enumerate(events):
        event["sequence_number"] = number + (1 if knobs.broken("sequence_from_1") else 0)
        name = "message" if knobs.broken("event_name_mismatch") and number == 2 else event["type"]
        framed.append((name, json.dumps(event)))
    if knobs.broken("done_sentinel"):
        framed.append((None, "[DONE]"))
    if knobs.broken("done_early"):
        framed.insert(len(framed) - 1, (None, "[DONE]"))
    return sse(knobs, framed)
