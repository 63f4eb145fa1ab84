"""The Anthropic dialect of the fault injector: its error bodies and its reading for the ledger.

For each ``POST /v1/...`` the truth ledger gets, in Anthropic's own terms:

* ``received``: the model, the system prompt's text, each message's role, text, image count,
  ``tool_use`` blocks (id, name, input JSON) and ``tool_result`` blocks (``tool_use_id``, text,
  ``is_error``), the tool names offered, ``tool_choice``, ``max_tokens``, ``stop_sequences``,
  ``stream``, ``temperature``, ``top_p``, ``top_k`` and ``thinking`` as sent;
* ``served``: the message id, ``stop_reason``, ``stop_sequence``, each tool call (id, name,
  input JSON as it left: for a stream, its ``partial_json`` pieces joined), the ``usage`` as
  the client could read it, and for a stream the number of events and whether
  ``message_stop`` left; an error answer's ``error`` object instead.

``prompt_tokens`` is all the input (``input_tokens`` + cache writes + cache reads, which
Anthropic counts apart); ``completion_tokens`` the ``output_tokens``, or for a cut stream the
tokens of the deltas that left (a tool call: its name and input JSON, as the OpenAI-dialect
reading counts them). A truncated text keeps ``MAX_TEXT`` characters; ``received`` keeps the
last ``_KEPT_MESSAGES`` messages (``messages_total`` says how many came).

Must not: do I/O, or fail on a body that is not a valid request (it is read leniently).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reference_server.tokens import count_tokens
from reference_server.upstream.anthropic_errors import error_object
from reference_server.upstream.anthropic_tokens import input_tokens, text_of
from reference_server.upstream.dialect import Accounting, Delivered
from reference_server.upstream.truth import MAX_TEXT

__all__ = ["AnthropicDialect"]

_KEPT_MESSAGES = 64
_PARAMS = ("max_tokens", "stop_sequences", "temperature", "top_p", "top_k", "thinking")


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _blocks(content: Any, kind: str) -> list[Mapping[str, Any]]:
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, Mapping) and b.get("type") == kind]


def _message(message: Any) -> dict[str, Any]:
    if not isinstance(message, Mapping):
        return {"role": None, "text": "", "images": 0, "tool_uses": [], "tool_results": []}
    content = message.get("content")
    return {
        "role": message.get("role"),
        "text": text_of(content)[:MAX_TEXT],
        "images": len(_blocks(content, "image")),
        "tool_uses": [
            {"id": b.get("id"), "name": b.get("name"), "input": json.dumps(b.get("input"))}
            for b in _blocks(content, "tool_use")
        ],
        "tool_results": [
            {
                "tool_use_id": b.get("tool_use_id"),
                "text": text_of(b.get("content"))[:MAX_TEXT],
                "is_error": bool(b.get("is_error", False)),
            }
            for b in _blocks(content, "tool_result")
        ],
    }


def received_of(request: Mapping[str, Any]) -> dict[str, Any]:
    messages = request.get("messages")
    listed = messages if isinstance(messages, list) else []
    tools = request.get("tools")
    system = request.get("system")
    return {
        "model": request.get("model"),
        "system": text_of(system)[:MAX_TEXT] if system is not None else None,
        "messages": [_message(m) for m in listed[-_KEPT_MESSAGES:]],
        "messages_total": len(listed),
        "tools": [
            t.get("name")
            for t in (tools if isinstance(tools, list) else ())
            if isinstance(t, Mapping)
        ],
        "tool_choice": request.get("tool_choice"),
        "stream": bool(request.get("stream", False)),
        **{name: request.get(name) for name in _PARAMS},
    }


def _input(usage: Mapping[str, Any]) -> int:
    return sum(
        int(usage.get(k) or 0)
        for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )


class _StreamReading:
    """What the events that left say, in order."""

    def __init__(self) -> None:
        self.id: str | None = None
        self.usage: dict[str, Any] | None = None
        self.stop_reason: str | None = None
        self.stop_sequence: str | None = None
        self.blocks: dict[int, dict[str, Any]] = {}
        self.delivered = 0  # output tokens of the deltas that left
        self.final_output: int | None = None
        self.stopped = False

    def take(self, raw: bytes) -> None:
        for line in raw.split(b"\n"):
            if line.startswith(b"data:"):
                self._data(_json(line[5:].strip()))

    def _data(self, item: dict[str, Any]) -> None:
        kind = item.get("type")
        if kind == "message_start" and isinstance(item.get("message"), Mapping):
            self.id = item["message"].get("id")
            usage = item["message"].get("usage")
            self.usage = dict(usage) if isinstance(usage, Mapping) else {}
        elif kind == "content_block_start" and isinstance(item.get("content_block"), Mapping):
            block = dict(item["content_block"])
            block["partial"] = ""
            self.blocks[int(item.get("index") or 0)] = block
            self.delivered += count_tokens(str(block.get("name") or ""))
        elif kind == "content_block_delta" and isinstance(item.get("delta"), Mapping):
            target = self.blocks.setdefault(int(item.get("index") or 0), {"partial": ""})
            delta = item["delta"]
            piece = (
                delta.get("text")
                if delta.get("type") == "text_delta"
                else delta.get("partial_json")
            )
            if isinstance(piece, str):
                target["partial"] += piece
                self.delivered += count_tokens(piece)
        elif kind == "message_delta":
            delta = item.get("delta") or {}
            self.stop_reason = delta.get("stop_reason")
            self.stop_sequence = delta.get("stop_sequence")
            usage = item.get("usage") or {}
            if isinstance(usage.get("output_tokens"), int):
                self.final_output = usage["output_tokens"]
            if self.usage is not None:
                self.usage.update(usage)
        elif kind == "message_stop":
            self.stopped = True

    def text(self) -> str:
        return "".join(
            b["partial"] for _, b in sorted(self.blocks.items()) if b.get("type") == "text"
        )

    def calls(self) -> list[dict[str, Any]]:
        return [
            {"id": b.get("id"), "name": b.get("name"), "input": b["partial"]}
            for _, b in sorted(self.blocks.items())
            if b.get("type") == "tool_use"
        ]


class AnthropicDialect:
    name = "anthropic"
    # A content_block_delta whose JSON is cut off: what a truncated proxy write looks like.
    malformed_event = (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":\n\n'
    )

    def error_body(self, status: int) -> bytes:
        message = f"The parity upstream answered an injected HTTP {status}."
        return json.dumps(error_object(status, message)).encode()

    def account(self, request: Mapping[str, Any], delivered: Delivered) -> Accounting:
        received = received_of(request)
        ok = 0 < delivered.status < 400
        if not ok:
            error = _json(delivered.body).get("error")
            refused = {"error": error} if isinstance(error, Mapping) else None
            return Accounting(0, 0, "", received, refused)
        if delivered.sse:
            return _stream_accounting(request, received, delivered)
        answer = _json(delivered.body) if delivered.completed else {}
        if not answer:  # cut before its body left
            return Accounting(input_tokens(request), 0, "", received, None)
        found = answer.get("usage")
        usage: dict[str, Any] = dict(found) if isinstance(found, Mapping) else {}
        content = answer.get("content")
        served: dict[str, Any] = {
            "id": answer.get("id"),
            "stop_reason": answer.get("stop_reason"),
            "stop_sequence": answer.get("stop_sequence"),
            "tool_calls": [
                {"id": b.get("id"), "name": b.get("name"), "input": json.dumps(b.get("input"))}
                for b in _blocks(content, "tool_use")
            ],
            "usage": usage,
        }
        text = "".join(str(b.get("text") or "") for b in _blocks(content, "text"))
        completion = int(usage.get("output_tokens") or 0)
        return Accounting(_input(usage), completion, text[:MAX_TEXT], received, served)


def _stream_accounting(
    request: Mapping[str, Any], received: dict[str, Any], delivered: Delivered
) -> Accounting:
    reading = _StreamReading()
    for event in delivered.events:
        reading.take(event)
    prompt = _input(reading.usage) if reading.usage is not None else input_tokens(request)
    served: dict[str, Any] = {
        "id": reading.id,
        "stop_reason": reading.stop_reason,
        "stop_sequence": reading.stop_sequence,
        "tool_calls": reading.calls(),
        "usage": reading.usage,
        "events": len(delivered.events),
        "message_stop": reading.stopped,
    }
    completion = reading.delivered
    if delivered.completed and reading.final_output is not None:
        completion = reading.final_output
    return Accounting(prompt, completion, reading.text()[:MAX_TEXT], received, served)
