"""A small, correct OpenAI-like server for the properties (chat with tools and streams,
embeddings), and one broken variant per property.

Requests are validated against the spec's request components (400 with the error object);
answers follow OpenAI's API reference. Embeddings are a deterministic function of the text.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import struct
from collections.abc import AsyncIterator
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from conformance.schemas import schema_errors

Variant = Literal[
    "legal",
    "usage_off",
    "duplicate_index",
    "ignores_max_tokens",
    "broken_tool_args",
    "reversed_embeddings",
    "base64_mismatch",
    "random_embeddings",
    "ignores_dimensions",
    "stream_single_choice",
    "accepts_invalid",
]

KEY = "sk-properties-test"
CHAT = "fake-chat"
EMBED = "fake-embed"
_CREATED = 1_700_000_000
_ANSWER = ["Sure", ",", " here", " it", " is"]


def _error(status: int, message: str) -> JSONResponse:
    body = {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    }
    return JSONResponse(body, status_code=status)


def _vector(text: str, size: int, variant: Variant) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    rng = random.Random(None if variant == "random_embeddings" else seed)
    # float32-exact values, so the float and base64 formats carry the same numbers
    return [struct.unpack("<f", struct.pack("<f", rng.uniform(-1, 1)))[0] for _ in range(size)]


def build_app(variant: Variant = "legal") -> Starlette:
    async def body_of(request: Request, component: str) -> dict[str, Any] | Response:
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return _error(401, "Incorrect API key provided.")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(400, "We could not parse the JSON body.")
        errors = [] if variant == "accepts_invalid" else schema_errors(component, body)
        if errors:
            return _error(400, errors[0])
        if not isinstance(body, dict):
            return _error(400, "the body is not an object")
        return body

    async def chat(request: Request) -> Response:
        body = await body_of(request, "CreateChatCompletionRequest")
        if isinstance(body, Response):
            return body
        if body.get("model") != CHAT:
            return _error(404, "The model does not exist.")
        limit = int(body.get("max_completion_tokens") or body.get("max_tokens") or 16)
        words = _ANSWER[: min(limit, len(_ANSWER))]
        finish = "length" if limit < len(_ANSWER) else "stop"
        n = int(body.get("n") or 1)
        used = len(words) + (3 if variant == "ignores_max_tokens" else 0)
        usage = {"prompt_tokens": 7, "completion_tokens": used * n, "total_tokens": 7 + used * n}
        if variant == "usage_off":
            usage["total_tokens"] += 1
        choice = body.get("tool_choice")
        tool = choice["function"]["name"] if isinstance(choice, dict) else None
        if body.get("stream"):
            return StreamingResponse(
                _stream(body, words, finish, n, tool), media_type="text/event-stream"
            )
        choices = []
        for index in range(n):
            message: dict[str, Any] = {
                "role": "assistant",
                "content": "".join(words),
                "refusal": None,
            }
            reason = finish
            if tool is not None:
                message["content"] = None
                message["tool_calls"] = [_call(tool, _arguments(body, tool))]
                reason = "tool_calls"
            shown = 0 if variant == "duplicate_index" else index
            choices.append(
                {"index": shown, "message": message, "logprobs": None, "finish_reason": reason}
            )
        answer = {
            "id": "chatcmpl-p",
            "object": "chat.completion",
            "created": _CREATED,
            "model": CHAT,
        }
        return JSONResponse({**answer, "choices": choices, "usage": usage})

    async def _stream(
        body: dict[str, Any], words: list[str], finish: str, n: int, tool: str | None
    ) -> AsyncIterator[str]:
        def chunk(choices: list[dict[str, Any]]) -> str:
            payload = {
                "id": "chatcmpl-p",
                "object": "chat.completion.chunk",
                "created": _CREATED,
                "model": CHAT,
                "choices": choices,
            }
            return f"data: {json.dumps(payload)}\n\n"

        streamed = 1 if variant == "stream_single_choice" else n
        for index in range(streamed):
            yield chunk(
                [
                    {
                        "index": index,
                        "delta": {"role": "assistant", "content": ""},
                        "finish_reason": None,
                    }
                ]
            )
            if tool is not None:
                arguments = _arguments(body, tool)
                if variant == "broken_tool_args":
                    arguments = arguments[:-1]
                first = _call(tool, "")
                yield chunk(
                    [
                        {
                            "index": index,
                            "delta": {"tool_calls": [{"index": 0, **first}]},
                            "finish_reason": None,
                        }
                    ]
                )
                for start in range(0, len(arguments), 3):
                    piece = {"index": 0, "function": {"arguments": arguments[start : start + 3]}}
                    yield chunk(
                        [{"index": index, "delta": {"tool_calls": [piece]}, "finish_reason": None}]
                    )
                yield chunk([{"index": index, "delta": {}, "finish_reason": "tool_calls"}])
                continue
            for word in words:
                yield chunk([{"index": index, "delta": {"content": word}, "finish_reason": None}])
            yield chunk([{"index": index, "delta": {}, "finish_reason": finish}])
        yield "data: [DONE]\n\n"

    async def embeddings(request: Request) -> Response:
        body = await body_of(request, "CreateEmbeddingRequest")
        if isinstance(body, Response):
            return body
        if body.get("model") != EMBED:
            return _error(404, "The model does not exist.")
        inputs = body["input"] if isinstance(body.get("input"), list) else [body.get("input")]
        size = int(body.get("dimensions") or 8)
        if variant == "ignores_dimensions":
            size = 8
        vectors = [_vector(str(text), size, variant) for text in inputs]
        if variant == "reversed_embeddings":
            vectors.reverse()
        data = []
        for index, vector in enumerate(vectors):
            value: Any = vector
            if body.get("encoding_format") == "base64":
                packed = [-x for x in vector] if variant == "base64_mismatch" else vector
                value = base64.b64encode(struct.pack(f"<{len(packed)}f", *packed)).decode()
            data.append({"object": "embedding", "index": index, "embedding": value})
        usage = {"prompt_tokens": 3 * len(inputs), "total_tokens": 3 * len(inputs)}
        return JSONResponse({"object": "list", "data": data, "model": EMBED, "usage": usage})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
        ]
    )


def _arguments(body: dict[str, Any], tool: str) -> str:
    for item in body.get("tools") or []:
        function = item.get("function") or {}
        if function.get("name") == tool:
            properties = (function.get("parameters") or {}).get("properties") or {}
            return json.dumps({name: None for name in properties})
    return "{}"


def _call(name: str, arguments: str) -> dict[str, Any]:
    return {"id": "call_p", "type": "function", "function": {"name": name, "arguments": arguments}}
