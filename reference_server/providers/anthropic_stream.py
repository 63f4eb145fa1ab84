"""Anthropic's stream events as OpenAI stream items: chat completion chunks or Responses events.

Anthropic API reference, "Streaming Messages": ``message_start``, then per content block
``content_block_start``, ``content_block_delta`` (``text_delta``; ``input_json_delta`` pieces
of a tool's input) and ``content_block_stop``, then ``message_delta`` (``stop_reason``, usage)
and ``message_stop``; ``ping`` anywhere, ``error`` anywhere, and event types added later
(which a client is to ignore: "Versioning"). A translator takes them one by one (``take``) and
gives the items to send, in order:

* chat (OpenAI "Streaming" reference, ``CreateChatCompletionStreamResponse``): at
  ``message_start`` the role chunk (``delta.role``), then a ``content`` delta per text piece;
  per ``tool_use`` block a ``tool_calls`` delta with its ``index`` (counting the calls), ``id``,
  ``type`` and ``function.name`` and ``arguments: ""``, then one with ``index`` and each
  non-empty argument piece (the JSON-mode tool's pieces are ``content`` deltas instead); at
  ``message_stop`` the chunk with the ``finish_reason`` and then the usage chunk
  (``choices: []``), always: the gateway bills from it and drops it unless the client asked
  (``stream_options.include_usage``), and only then do the other chunks carry ``usage: null``.
* Responses (API reference, "Streaming responses"): ``response.created`` and
  ``.in_progress`` at ``message_start``; a text block (or the JSON-mode tool's) as a message
  item (``output_item.added``, ``content_part.added``, ``output_text.delta``..., ``.done``,
  ``content_part.done``, ``output_item.done``); a ``tool_use`` block as a ``function_call``
  item (``function_call_arguments.delta``..., ``.done``); at ``message_stop``
  ``response.completed`` (or ``.incomplete``) with the whole output and usage; every event
  numbered by ``sequence_number``.

Nothing is sent for a message that has not started, so a failure before ``message_start``
still falls back; an ``error`` event raises the failure it stands for (``anthropic_errors``);
a stream that ends before ``message_stop`` is a broken protocol (``finish``), never a
complete answer.

Must not: do I/O or decode bytes (``anthropic`` reads the wire).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from reference_server.errors import ProviderError
from reference_server.providers.anthropic_errors import error_from_body
from reference_server.providers.anthropic_response import (
    ToolCall,
    Usage,
    chat_usage,
    finish_reason,
    finished_response,
    usage_of,
)
from reference_server.providers.responses_synthesis import response_base

__all__ = ["ChatStream", "ResponsesStream"]

Item = dict[str, Any]


class _Blocks:
    """What every translator tracks: blocks by Anthropic index, usage, the stop reason."""

    def __init__(self, json_tool: str | None) -> None:
        self.json_tool = json_tool
        self.usage = Usage(0, 0, 0, 0)
        self.stop_reason: str | None = None
        self.started = False
        self.stopped = False
        self.kinds: dict[int, str] = {}  # index -> "text" | "json" | "tool" | "other"
        self.calls: list[ToolCall] = []
        self.call_of: dict[int, int] = {}  # block index -> its position among the calls

    def common(self, event: Mapping[str, Any]) -> str | None:
        """Bookkeeping shared by both translators; the event's type, None to skip it."""
        kind = event.get("type")
        if kind == "error":
            raise error_from_body(None, event)
        if not self.started and kind != "message_start":
            if kind == "ping":
                return None
            raise ProviderError("protocol", f"the stream began with {kind!r}, not message_start")
        if kind == "message_start":
            message = event.get("message") or {}
            self.usage = usage_of(message.get("usage"))
            self.started = True
        elif kind == "content_block_start":
            block = event.get("content_block") or {}
            index = int(event.get("index") or 0)
            if block.get("type") == "text":
                self.kinds[index] = "text"
            elif block.get("type") == "tool_use" and block.get("name") == self.json_tool:
                self.kinds[index] = "json"
            elif block.get("type") == "tool_use":
                self.kinds[index] = "tool"
                self.call_of[index] = len(self.calls)
                self.calls.append(ToolCall(str(block.get("id")), str(block.get("name")), ""))
            else:
                self.kinds[index] = "other"  # thinking, server tools: not in an OpenAI answer
        elif kind == "message_delta":
            stop = (event.get("delta") or {}).get("stop_reason")
            if isinstance(stop, str):
                self.stop_reason = stop
            self.usage = usage_of(event.get("usage"), self.usage)
        elif kind == "message_stop":
            self.stopped = True
        return kind if isinstance(kind, str) else None

    @staticmethod
    def piece(event: Mapping[str, Any]) -> str:
        delta = event.get("delta") or {}
        if delta.get("type") == "text_delta":
            return str(delta.get("text") or "")
        if delta.get("type") == "input_json_delta":
            return str(delta.get("partial_json") or "")
        return ""

    def grow(self, index: int, piece: str) -> None:
        position = self.call_of[index]
        call = self.calls[position]
        self.calls[position] = call._replace(arguments=call.arguments + piece)

    def finish(self) -> None:
        if not self.stopped:
            raise ProviderError("protocol", "the upstream stream ended before message_stop")


class ChatStream(_Blocks):
    def __init__(
        self, *, completion_id: str, model: str, json_tool: str | None, include_usage: bool
    ) -> None:
        super().__init__(json_tool)
        self._base: Item = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "service_tier": "default",
        }
        self._include_usage = include_usage

    def _chunk(self, delta: Item, finish: str | None = None) -> Item:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        chunk = {**self._base, "choices": [choice]}
        if self._include_usage:
            chunk["usage"] = None
        return chunk

    def take(self, event: Mapping[str, Any]) -> list[Item]:
        kind = self.common(event)
        index = int(event.get("index") or 0)
        if kind == "message_start":
            return [self._chunk({"role": "assistant", "content": "", "refusal": None})]
        if kind == "content_block_start" and self.kinds[index] == "tool":
            call = self.calls[self.call_of[index]]
            opening = {
                "index": self.call_of[index],
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            return [self._chunk({"tool_calls": [opening]})]
        if kind == "content_block_start" and self.kinds[index] == "text":
            text = str((event.get("content_block") or {}).get("text") or "")
            return [self._chunk({"content": text})] if text else []
        if kind == "content_block_delta":
            piece, block = self.piece(event), self.kinds.get(index)
            if not piece or block not in ("text", "json", "tool"):
                return []
            if block == "tool":
                self.grow(index, piece)
                fragment = {"index": self.call_of[index], "function": {"arguments": piece}}
                return [self._chunk({"tool_calls": [fragment]})]
            return [self._chunk({"content": piece})]
        if kind == "message_stop":
            finish = finish_reason(self.stop_reason, len(self.calls))
            last = {**self._base, "choices": [], "usage": chat_usage(self.usage)}
            return [self._chunk({}, finish), last]
        return []


class ResponsesStream(_Blocks):
    def __init__(
        self, body: Mapping[str, Any], *, rid: str, model: str, json_tool: str | None
    ) -> None:
        super().__init__(json_tool)
        self._rid = rid
        self._response = response_base(body, model, rid, int(time.time()))
        self._seq = 0
        self._output: list[Item] = []
        self._open: dict[int, tuple[int, Item]] = {}  # block index -> (output index, item)

    def _event(self, kind: str, **fields: Any) -> Item:
        out = {"type": kind, "sequence_number": self._seq, **fields}
        self._seq += 1
        return out

    def take(self, event: Mapping[str, Any]) -> list[Item]:
        kind = self.common(event)
        index = int(event.get("index") or 0)
        if kind == "message_start":
            return [
                self._event("response.created", response=dict(self._response)),
                self._event("response.in_progress", response=dict(self._response)),
            ]
        if kind == "content_block_start":
            return self._start(index)
        if kind == "content_block_delta":
            return self._delta(index, self.piece(event))
        if kind == "content_block_stop":
            return self._stop(index)
        if kind == "message_stop":
            if self.stop_reason in ("max_tokens", "model_context_window_exceeded"):
                for item in self._output:  # cut at the limit: as a whole Response says it
                    if item["type"] == "message":
                        item["status"] = "incomplete"
            final = finished_response(self._response, self.stop_reason, self._output, self.usage)
            done = (
                "response.incomplete" if final["status"] == "incomplete" else "response.completed"
            )
            return [self._event(done, response=final)]
        return []

    def _start(self, index: int) -> list[Item]:
        block = self.kinds[index]
        position = len(self._output) + len(self._open)
        if block == "tool":
            call = self.calls[self.call_of[index]]
            item: Item = {
                "id": f"fc_{self._rid}{self.call_of[index]:02d}",
                "type": "function_call",
                "status": "in_progress",
                "arguments": "",
                "call_id": call.id,
                "name": call.name,
            }
        elif block in ("text", "json"):
            item = {
                "id": f"msg_{self._rid}{index:02d}",
                "type": "message",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            }
        else:
            return []
        self._open[index] = (position, item)
        events = [self._event("response.output_item.added", output_index=position, item=dict(item))]
        if item["type"] == "message":
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            item["content"] = [part]
            where = {"item_id": item["id"], "output_index": position, "content_index": 0}
            events.append(self._event("response.content_part.added", **where, part=dict(part)))
        return events

    def _delta(self, index: int, piece: str) -> list[Item]:
        if not piece or index not in self._open:
            return []
        position, item = self._open[index]
        if item["type"] == "function_call":
            self.grow(index, piece)
            item["arguments"] += piece
            kind = "response.function_call_arguments.delta"
            return [self._event(kind, item_id=item["id"], output_index=position, delta=piece)]
        item["content"][0]["text"] += piece
        where = {"item_id": item["id"], "output_index": position, "content_index": 0}
        return [self._event("response.output_text.delta", **where, delta=piece, logprobs=[])]

    def _stop(self, index: int) -> list[Item]:
        if index not in self._open:
            return []
        position, item = self._open.pop(index)
        events = []
        if item["type"] == "function_call":
            events.append(
                self._event(
                    "response.function_call_arguments.done",
                    item_id=item["id"],
                    output_index=position,
                    name=item["name"],
                    arguments=item["arguments"],
                )
            )
            item["status"] = "completed"
        else:
            part = item["content"][0]
            where = {"item_id": item["id"], "output_index": position, "content_index": 0}
            events.append(
                self._event("response.output_text.done", **where, text=part["text"], logprobs=[])
            )
            events.append(self._event("response.content_part.done", **where, part=dict(part)))
            item["status"] = "completed"
        self._output.append(item)
        events.append(
            self._event("response.output_item.done", output_index=position, item=dict(item))
        )
        return events
