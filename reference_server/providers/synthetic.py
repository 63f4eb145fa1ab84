"""The ``synthetic`` provider: deterministic answers in-process, with latency and fault knobs.

Latency (shared contract): the first content chunk of a chat stream comes ``ttft_ms`` after the
role chunk and the following ones every ``itl_ms``, ``tokens_per_chunk`` tokens each; a
non-stream answer takes the same total time. Faults are drawn once per call from a
``random.Random(seed)`` owned by the provider instance (deterministic sequence per process):
``error_rate`` (500), ``rate_limit_rate`` (429 with Retry-After), ``timeout_rate`` (hangs
``timeout_ms`` then fails as a timeout), ``reset_rate`` (connection reset before the first
byte), ``midstream_disconnect_rate`` (a stream dies after about half its chunks; a non-stream
call fails like a reset); ``slow_first_byte_ms`` delays every first byte.

Must not: do network I/O.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

import anyio
import anyio.to_thread

from reference_server.config import SyntheticProviderSettings
from reference_server.providers.base import Call, ProviderError, Reply
from reference_server.providers.chat_synthesis import completion_body, plan_chat, stream_chunks
from reference_server.providers.media_synthesis import (
    embeddings_body,
    image_size,
    images_body,
    speech_reply,
    transcription_reply,
    video_body,
    video_id,
)
from reference_server.providers.responses_synthesis import response_events, response_object

__all__ = ["SyntheticProvider"]

Fault = Literal["none", "error", "rate_limit", "timeout", "reset", "midstream"]


class SyntheticProvider:
    def __init__(self, settings: SyntheticProviderSettings) -> None:
        self.name = settings.name
        self.settings = settings
        self._rng = random.Random(settings.faults.seed)
        # Read once: the common synthetic provider injects nothing, and every call asks.
        self._faulty = settings.faults.any

    async def aclose(self) -> None:
        return None

    def _draw(self) -> Fault:
        if not self._faulty:
            return "none"
        faults = self.settings.faults
        roll = self._rng.random()
        for kind, rate in (
            ("error", faults.error_rate),
            ("rate_limit", faults.rate_limit_rate),
            ("timeout", faults.timeout_rate),
            ("reset", faults.reset_rate),
            ("midstream", faults.midstream_disconnect_rate),
        ):
            if roll < rate:
                return kind  # type: ignore[return-value]
            roll -= rate
        return "none"

    async def _before_first_byte(self, fault: Fault, streaming: bool) -> None:
        faults = self.settings.faults
        if faults.slow_first_byte_ms:
            await asyncio.sleep(faults.slow_first_byte_ms / 1000)
        if fault == "error":
            raise ProviderError(
                "status", "The synthetic upstream failed (injected 500).", status=500
            )
        if fault == "rate_limit":
            raise ProviderError(
                "status",
                "The synthetic upstream is rate limited (injected 429).",
                status=429,
                error_type="requests",
                code="rate_limit_exceeded",
                retry_after="1",
            )
        if fault == "timeout":
            await asyncio.sleep(faults.timeout_ms / 1000)
            raise ProviderError(
                "timeout", "The synthetic upstream timed out (injected).", status=504
            )
        if fault == "reset" or (fault == "midstream" and not streaming):
            raise ProviderError(
                "connect", "The synthetic upstream reset the connection (injected)."
            )

    async def _pace(self, chunks: int) -> None:
        total = self.settings.ttft_ms + self.settings.itl_ms * max(chunks - 1, 0)
        if total > 0:
            await asyncio.sleep(total / 1000)

    async def complete(self, call: Call) -> Reply:
        if self._faulty:
            await self._before_first_byte(self._draw(), streaming=False)
        body, model, rid = call.body, call.model, call.request_id
        if call.endpoint == "chat":
            plan = plan_chat(
                body,
                model,
                created=int(time.time()),
                request_id=rid,
                output_tokens=self.settings.output_tokens,
                prompt_tokens=call.prompt_tokens,
            )
            if self.settings.ttft_ms or self.settings.itl_ms:
                per = self.settings.tokens_per_chunk
                await self._pace(max((len(c.tokens) + per - 1) // per for c in plan.choices))
            return Reply(
                "application/json",
                body=completion_body(plan),
                prompt_tokens=plan.prompt_tokens,
                completion_tokens=plan.completion_tokens,
            )
        if call.endpoint == "responses":
            response = response_object(body, model, rid, output_tokens=self.settings.output_tokens)
            usage = response["usage"]
            await self._pace(usage["output_tokens"] // self.settings.tokens_per_chunk)
            return Reply(
                "application/json",
                body=response,
                prompt_tokens=usage["input_tokens"],
                completion_tokens=usage["output_tokens"],
            )
        if call.endpoint == "embeddings":
            raw = body["input"]
            items = len(raw) if isinstance(raw, list) and raw and not isinstance(raw[0], int) else 1
            if items * int(body.get("dimensions") or 1536) > 20_000:  # big batches: a thread
                out, tokens = await anyio.to_thread.run_sync(embeddings_body, body, model)
            else:
                out, tokens = embeddings_body(body, model)
            return Reply("application/json", body=out, prompt_tokens=tokens)
        if call.endpoint == "images":
            size = image_size(model, body.get("size"))
            if isinstance(size, str):
                raise ProviderError(
                    "status", size, status=400, error_type="invalid_request_error", param="size"
                )
            # PNG encoding is CPU work: off the event loop, so other requests keep flowing.
            out, image_tokens = await anyio.to_thread.run_sync(
                images_body, body, model, str(body.get("_origin", "")), size
            )
            return Reply(
                "application/json",
                body=out,
                completion_tokens=image_tokens,
                units=float(len(out["data"])),
            )
        if call.endpoint == "speech":
            audio, media_type, _seconds = await anyio.to_thread.run_sync(speech_reply, body)
            chars = len(str(body["input"]))
            return Reply(media_type, content=audio, prompt_tokens=chars, units=float(chars))
        if call.endpoint == "transcriptions":
            assert call.upload is not None
            out_t, seconds, tokens = transcription_reply(body, call.upload.content)
            if isinstance(out_t, str):
                return Reply(
                    "text/plain; charset=utf-8",
                    content=out_t.encode(),
                    completion_tokens=tokens,
                    units=seconds,
                )
            return Reply("application/json", body=out_t, completion_tokens=tokens, units=seconds)
        if call.endpoint == "videos":
            seconds = int(body.get("seconds") or 4)
            size = str(body.get("size") or "720x1280")
            prompt = str(body["prompt"])
            ident = video_id(int(time.time()), seconds, size, prompt)
            out_v = video_body(ident, model, prompt, status="queued")
            assert out_v is not None
            return Reply("application/json", body=out_v, units=float(seconds))
        raise ProviderError("status", f"endpoint {call.endpoint!r} is not served", status=404)

    async def stream(self, call: Call) -> AsyncIterator[dict[str, Any]]:
        fault = self._draw()
        await self._before_first_byte(fault, streaming=True)
        per = self.settings.tokens_per_chunk
        items: Iterator[dict[str, Any]]
        if call.endpoint == "responses":
            items = response_events(
                call.body,
                call.model,
                call.request_id,
                output_tokens=self.settings.output_tokens,
                tokens_per_chunk=per,
            )
            content = {"response.output_text.delta", "response.function_call_arguments.delta"}
        else:
            plan = plan_chat(
                call.body,
                call.model,
                created=int(time.time()),
                request_id=call.request_id,
                output_tokens=self.settings.output_tokens,
                prompt_tokens=call.prompt_tokens,
            )
            items = stream_chunks(plan, per)
            content = set()
        cut = -1
        if fault == "midstream":  # rare: only then is the whole stream built up front
            listed = list(items)
            cut, items = len(listed) // 2, iter(listed)
        ttft, itl = self.settings.ttft_ms / 1000, self.settings.itl_ms / 1000
        # Content is due on a schedule (role chunk + ttft, then every itl), not after a sleep
        # per chunk: per-chunk sleeps add every write's time and every timer's overshoot to the
        # next gap, so a long stream drifts late and the configured latency is not the served one.
        loop = asyncio.get_running_loop()
        due = loop.time() + ttft
        first_content = True
        for position, item in enumerate(items):
            if position == cut and position > 0:
                raise ProviderError(
                    "connect", "The synthetic upstream dropped the stream (injected)."
                )
            is_content = item.get("type") in content if content else _has_content(item)
            if is_content:
                if not first_content:
                    due += itl
                first_content = False
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            yield item


def _has_content(chunk: dict[str, Any]) -> bool:
    choices = chunk.get("choices")
    if not choices:
        return False
    delta = choices[0].get("delta") or {}
    return bool(delta.get("content") or delta.get("tool_calls"))
