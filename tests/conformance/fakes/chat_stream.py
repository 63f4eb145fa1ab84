"""The fake server's chat completion streams: chunks as OpenAI sends them, then SSE bytes.

Correct by default (role delta first, one word per content chunk, tool calls with id, type and
name on their first delta only, one finish chunk per choice, the usage chunk with
``choices: []`` only when asked, ``data: [DONE]``); the knobs bend one rule each.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from tests.conformance.fakes.base import Knobs
from tests.conformance.fakes.chat import _usage

__all__ = ["stream_events"]

_BAD_UTF8_MARK = "@@not-utf8@@"


def _chunks(
    knobs: Knobs, body: dict[str, Any], plan: dict[str, Any], prompt: int, usage_asked: bool
) -> list[dict[str, Any] | str]:
    cid = f"{knobs.id_prefix}{uuid.uuid4().hex}"
    created = int(time.time()) * (1000 if knobs.chunk_created_ms else 1)
    calls, words = plan["calls"], plan["words"]
    required = body.get("tool_choice") == "required"

    def chunk(choices: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": f"{knobs.id_prefix}{uuid.uuid4().hex}" if knobs.chunk_id_per_chunk else cid,
            "object": knobs.chunk_object,
            "created": created,
            "model": body["model"],
            "system_fingerprint": 123 if knobs.chunk_fingerprint_int else "fp_fake",
            "choices": choices,
        }
        if usage_asked and not knobs.omit_usage_nulls:
            out["usage"] = None
        if knobs.vendor_fields:
            out["x_vendor"] = {"shard": 3}
            for choice in choices:
                choice["x_vendor_score"] = 1
                choice["delta"]["x_vendor_reasoning"] = None
        return out

    def choice(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}

    out: list[dict[str, Any] | str] = []
    n = 1 if calls else body.get("n", 1)
    completion = 0
    for index in range(n):
        delta: dict[str, Any] = {"role": "assistant", "content": ""}
        if not knobs.first_role or (knobs.stream_role_first_choice_only and index > 0):
            del delta["role"]
        if knobs.role_with_content and words:
            delta["content"] = words[0] + (" " if len(words) > 1 else "")
        out.append(chunk([choice(index, delta)]))
        rest = words[1:] if knobs.role_with_content else words
        for position, word in enumerate(rest):
            last = position == len(rest) - 1
            piece = {"content": word + ("" if last else " ")}
            finish = plan["finish"] if last and knobs.finish_twice else None
            out.append(chunk([choice(index, piece, finish)]))
        for number, call in enumerate(calls):
            first = {
                "index": number,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": ""},
            }
            out.append(chunk([choice(index, {"tool_calls": [first]})]))
            arguments = call["arguments"]
            for start in range(0, len(arguments), 6):
                item: dict[str, Any] = {
                    "index": number,
                    "function": {"arguments": arguments[start : start + 6]},
                }
                if knobs.tool_delta_repeat_id:
                    item["id"] = call["id"]
                if knobs.tool_delta_repeat_id or knobs.tool_delta_repeat_type:
                    item["type"] = "function"
                out.append(chunk([choice(index, {"tool_calls": [item]})]))
        finish = plan["finish"]
        if calls and required:
            finish = knobs.stream_tool_finish
        completion += max(len(words), 8 if calls else 0)
        if knobs.stream_error and not calls:
            out.append('{"error": "upstream failed"}')
            return out
        out.append(chunk([choice(index, {}, finish)]))
    if usage_asked or knobs.usage_unasked:
        usage = _usage(knobs, prompt + knobs.stream_prompt_skew, completion)
        if knobs.usage_merged and usage_asked:
            last_chunk = out[-1]
            assert isinstance(last_chunk, dict)
            last_chunk["usage"] = usage
        else:
            final = chunk([])
            final["usage"] = usage
            out.append(final)
    return out


def _encode(knobs: Knobs, number: int, payload: str) -> bytes:
    end = knobs.line_end
    lines: list[str] = []
    if knobs.comments:
        lines.append(f": keep-alive{end}{end}")
    if knobs.event_ids:
        lines.append(f"id: {number}{end}")
    lines.append(f"data:{' ' if knobs.sse_space else ''}{payload}{end}{end}")
    data = "".join(lines).encode()
    return data.replace(_BAD_UTF8_MARK.encode(), b"caf\xff")


def stream_events(
    knobs: Knobs, body: dict[str, Any], plan: dict[str, Any], prompt: int, usage_asked: bool
) -> list[bytes]:
    """The whole stream, one bytes object per event (written separately, paced by ``itl``)."""
    payloads: list[str] = []
    items = _chunks(knobs, body, plan, prompt, usage_asked)
    if knobs.mutate_chunks is not None:
        chunks = knobs.mutate_chunks([i for i in items if isinstance(i, dict)])
        items = [*chunks, *(i for i in items if isinstance(i, str))]
    for position, item in enumerate(items):
        if isinstance(item, str):
            payloads.append(item)
            continue
        if knobs.invalid_utf8 and position == 1:
            item["x_note"] = _BAD_UTF8_MARK
        payloads.append(json.dumps(item))
        if knobs.non_json_event and position == 0:
            payloads.append("hello")
    failed = payloads and payloads[-1].startswith('{"error"')
    if not knobs.no_done and not failed:
        payloads.append("[DONE]")
        if knobs.after_done:
            payloads.append("[DONE]")
    events = [_encode(knobs, number, payload) for number, payload in enumerate(payloads)]
    if knobs.ping_event:
        end = knobs.line_end
        events.insert(1, f"event: ping{end}{end}".encode())
    return events
