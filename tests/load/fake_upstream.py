"""A tiny OpenAI-shaped streaming target with exact, known delays, for the load harness's tests.

Chat streams send the role chunk at once, the first content chunk ``ttft_ms`` after the request,
then one chunk every ``itl_ms`` (scheduled against absolute times, so delays do not drift), a
usage chunk and ``data: [DONE]``. ``mode="error"`` answers every request with a 500 error object.
Model ``flaky`` fails every other request with a 502 and answers the others 20 ms later. Model
``stall-headers`` answers its first request, then holds the headers of the others for a minute;
``stall-body`` answers its first request, then stops the others' streams after one chunk.
Runs in a thread (``tests.live.serve``) or as ``python -m tests.load.fake_upstream --port N``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

__all__ = ["create_app"]


def _chunk(index: int, delta: dict[str, Any], usage: dict[str, int] | None = None) -> bytes:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake",
        "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": None}],
        "usage": usage,
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def create_app(*, ttft_ms: float = 50.0, itl_ms: float = 10.0, mode: str = "ok") -> Starlette:
    calls = {"flaky": 0, "stall-headers": 0, "stall-body": 0}

    async def chat(request: Request) -> Response:
        start = time.perf_counter()
        body = await request.json()
        if body.get("model") == "flaky":  # every other request fails, 20 ms slower otherwise
            calls["flaky"] += 1
            if calls["flaky"] % 2:
                return JSONResponse(
                    {"error": {"message": "flaky", "type": "server_error", "code": None}}, 502
                )
            start += 0.02
        stall = body.get("model") if body.get("model") in ("stall-headers", "stall-body") else None
        if stall is not None:
            calls[stall] += 1
            if calls[stall] == 1:
                stall = None  # the first request (the preflight) is answered in full
            elif stall == "stall-headers":
                await asyncio.sleep(60)
        if mode == "error":
            return JSONResponse(
                {"error": {"message": "broken", "type": "server_error", "code": None}},
                status_code=500,
            )
        tokens = int(body.get("max_tokens") or 16)
        usage = {"prompt_tokens": 10, "completion_tokens": tokens, "total_tokens": 10 + tokens}
        if not body.get("stream"):
            await asyncio.sleep((ttft_ms + itl_ms * (tokens - 1)) / 1000.0)
            return JSONResponse(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "x " * tokens},
                            "finish_reason": "length",
                        }
                    ],
                    "usage": usage,
                }
            )

        async def events() -> AsyncIterator[bytes]:
            yield _chunk(0, {"role": "assistant", "content": ""})
            for i in range(tokens):
                if stall == "stall-body" and i == 1:
                    await asyncio.sleep(60)
                due = start + (ttft_ms + i * itl_ms) / 1000.0
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                yield _chunk(i, {"content": f"t{i} "})
            yield _chunk(0, {}, usage)
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def embeddings(request: Request) -> Response:
        await request.json()
        if mode == "error":
            return JSONResponse({"error": {"message": "broken", "type": "server_error"}}, 500)
        return JSONResponse(
            {
                "object": "list",
                "data": [{"object": "embedding", "index": 0, "embedding": [0.6, 0.8]}],
                "model": "fake-embed",
                "usage": {"prompt_tokens": 5, "total_tokens": 5},
            }
        )

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ttft-ms", type=float, default=50.0)
    parser.add_argument("--itl-ms", type=float, default=10.0)
    parser.add_argument("--mode", default="ok")
    args = parser.parse_args()
    uvicorn.run(
        create_app(ttft_ms=args.ttft_ms, itl_ms=args.itl_ms, mode=args.mode),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
    )
