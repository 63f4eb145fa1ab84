"""OpenAI chat-completion stream semantics over decoded SSE events.

Turns an exchange's events (``sse.py``) into a :class:`ChatStream`: JSON chunks with their
arrival times, the ``[DONE]`` sentinel, in-stream error objects, and per-choice accumulation of
role, content, finish reasons and tool-call deltas. The ``*_problems`` functions list rule
violations in words a report reader can act on; the checks decide the verdict.

Rules follow the official spec (``CreateChatCompletionStreamResponse``,
``ChatCompletionStreamResponseDelta``, ``ChatCompletionMessageToolCallChunk``) and the
openai-python SDK (``Stream.__stream__``: ``[DONE]`` ends the stream; a JSON object with an
``error`` key raises ``APIError``; ``ChatCompletionStreamState`` accumulates tool calls by
``index``).

Must not: perform I/O or raise check outcomes (checks do).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.sse import decode_stream

if TYPE_CHECKING:
    from conformance.exchange import Exchange
    from conformance.sse import FramingIssue, TimedEvent

__all__ = [
    "FINISH_REASONS",
    "ChatStream",
    "Chunk",
    "ToolCall",
    "accumulate_content",
    "accumulate_tool_calls",
    "finish_problems",
    "parse_chat_stream",
    "role_problems",
    "tool_call_delta_notes",
    "tool_call_delta_problems",
    "usage_problems",
]

# CreateChatCompletionStreamResponse.choices[].finish_reason enum in the official spec.
FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter", "function_call"})


@dataclass(frozen=True, slots=True)
class Chunk:
    """One JSON chunk: its position among the events, arrival time and parsed body."""

    position: int
    at: float
    body: dict[str, Any]

    @property
    def choices(self) -> list[dict[str, Any]]:
        choices = self.body.get("choices")
        if not isinstance(choices, list):
            return []
        return [c for c in choices if isinstance(c, dict)]


@dataclass(frozen=True, slots=True)
class ChatStream:
    """What a chat completion stream carried, before any verdict."""

    events: tuple[TimedEvent, ...]
    issues: tuple[FramingIssue, ...]
    chunks: tuple[Chunk, ...]
    non_json: tuple[str, ...]  # data payloads (other than [DONE]) that are not JSON objects
    errors: tuple[Any, ...]  # payloads with a top-level "error" key (the SDK raises on them)
    done_position: int | None  # position of the first [DONE] among the events

    @property
    def after_done(self) -> tuple[TimedEvent, ...]:
        if self.done_position is None:
            return ()
        return self.events[self.done_position + 1 :]

    @property
    def failed(self) -> bool:
        """The stream carried an in-stream error: completion rules do not apply."""
        return bool(self.errors)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call accumulated from its deltas (by ``index``, as the SDK does)."""

    choice: int
    index: int
    id: str | None
    type: str | None
    name: str | None
    arguments: str


def parse_chat_stream(exchange: Exchange) -> ChatStream:
    decoded = decode_stream(exchange)
    chunks: list[Chunk] = []
    non_json: list[str] = []
    errors: list[Any] = []
    done: int | None = None
    for position, timed in enumerate(decoded.events):
        data = timed.event.data
        if data == "[DONE]":  # openai-python: `if sse.data.startswith("[DONE]")`
            if done is None:
                done = position
            continue
        try:
            body = json.loads(data)
        except ValueError:
            non_json.append(data)
            continue
        if isinstance(body, dict) and "error" in body:
            errors.append(body)
        elif isinstance(body, dict):
            chunks.append(Chunk(position, timed.at, body))
        else:
            non_json.append(data)
    return ChatStream(
        events=decoded.events,
        issues=decoded.issues,
        chunks=tuple(chunks),
        non_json=tuple(non_json),
        errors=tuple(errors),
        done_position=done,
    )


def _delta(choice: dict[str, Any]) -> dict[str, Any]:
    delta = choice.get("delta")
    return delta if isinstance(delta, dict) else {}


def _has_payload(delta: dict[str, Any]) -> bool:
    return bool(delta.get("content")) or bool(delta.get("tool_calls")) or bool(delta.get("refusal"))


def role_problems(stream: ChatStream) -> list[str]:
    """The first delta of each choice says ``role: assistant``; no later one changes it."""
    problems: list[str] = []
    seen: set[int] = set()
    for chunk in stream.chunks:
        for choice in chunk.choices:
            index = choice.get("index")
            if not isinstance(index, int):
                continue
            delta = _delta(choice)
            role = delta.get("role")
            if index not in seen:
                seen.add(index)
                if role != "assistant":
                    problems.append(
                        f"choice {index}: first delta has role {role!r}, expected 'assistant' "
                        f"(chunk {chunk.position})"
                    )
            elif "role" in delta and role not in (None, "assistant"):
                problems.append(
                    f"choice {index}: a later delta sets role {role!r} (chunk {chunk.position})"
                )
    return problems


def finish_problems(stream: ChatStream) -> list[str]:
    """Exactly one non-null ``finish_reason`` per choice, from the enum, after its last payload."""
    problems: list[str] = []
    finished: dict[int, int] = {}
    indexes: set[int] = set()
    for chunk in stream.chunks:
        for choice in chunk.choices:
            index = choice.get("index")
            if not isinstance(index, int):
                problems.append(f"chunk {chunk.position}: choice without an integer index")
                continue
            indexes.add(index)
            delta = _delta(choice)
            reason = choice.get("finish_reason")
            if index in finished and (_has_payload(delta) or reason is not None):
                what = "another finish_reason" if reason is not None else "more content"
                problems.append(
                    f"choice {index}: {what} after finish_reason (chunk {chunk.position})"
                )
                continue
            if reason is not None:
                if reason not in FINISH_REASONS:
                    problems.append(
                        f"choice {index}: finish_reason {reason!r} is not one of "
                        f"{sorted(FINISH_REASONS)}"
                    )
                finished[index] = chunk.position
    for index in sorted(indexes - finished.keys()):
        problems.append(f"choice {index}: no chunk carried a finish_reason")
    if not indexes:
        problems.append("no chunk carried any choice")
    return problems


def usage_problems(stream: ChatStream, *, asked: bool) -> list[str]:
    """With ``include_usage``: one final ``choices: []`` chunk with correct usage; else none.

    Spec, ``ChatCompletionStreamOptions.include_usage``: "an additional chunk will be streamed
    before the data: [DONE] message. The usage field on this chunk shows the token usage
    statistics for the entire request, and the choices field will always be an empty array.
    All other chunks will also include a usage field, but with a null value."
    """
    problems: list[str] = []
    with_usage = [c for c in stream.chunks if c.body.get("usage") is not None]
    empty_choices = [c for c in stream.chunks if c.body.get("choices") == []]
    if not asked:
        for chunk in with_usage:
            problems.append(f"chunk {chunk.position} carries usage although none was asked for")
        for chunk in empty_choices:
            if chunk not in with_usage:
                problems.append(
                    f"chunk {chunk.position} has empty choices although no usage was asked for"
                )
        return problems
    if len(with_usage) != 1:
        problems.append(f"{len(with_usage)} chunks carry usage; expected exactly one")
    for chunk in with_usage:
        if chunk.body.get("choices") != []:
            problems.append(
                f"the usage chunk (chunk {chunk.position}) has choices "
                f"{chunk.body.get('choices')!r}; expected []"
            )
        if stream.chunks and chunk is not stream.chunks[-1]:
            problems.append(f"the usage chunk (chunk {chunk.position}) is not the last chunk")
        problems.extend(usage_arithmetic(chunk.body.get("usage")))
    for chunk in stream.chunks:
        if "usage" in chunk.body and chunk.body["usage"] is None:
            continue
        if chunk not in with_usage and "usage" in chunk.body:
            problems.append(f"chunk {chunk.position} has usage {chunk.body['usage']!r}")
    return problems


def usage_arithmetic(usage: Any) -> list[str]:
    """``CompletionUsage``: non-negative integer counts with total = prompt + completion."""
    if not isinstance(usage, dict):
        return [f"usage is {usage!r}, not an object"]
    problems: list[str] = []
    counts: dict[str, int] = {}
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = usage.get(name)
        if type(value) is not int or value < 0:
            problems.append(f"usage.{name} is {value!r}, not a non-negative integer")
        else:
            counts[name] = value
    if len(counts) == 3 and counts["total_tokens"] != (
        counts["prompt_tokens"] + counts["completion_tokens"]
    ):
        problems.append(
            f"usage.total_tokens {counts['total_tokens']} != prompt_tokens "
            f"{counts['prompt_tokens']} + completion_tokens {counts['completion_tokens']}"
        )
    return problems


def accumulate_content(stream: ChatStream) -> dict[int, str]:
    """Concatenated ``delta.content`` per choice index."""
    content: dict[int, str] = {}
    for chunk in stream.chunks:
        for choice in chunk.choices:
            index = choice.get("index")
            if isinstance(index, int):
                piece = _delta(choice).get("content")
                content[index] = content.get(index, "") + (piece if isinstance(piece, str) else "")
    return content


def accumulate_tool_calls(stream: ChatStream) -> list[ToolCall]:
    """Tool calls per (choice, index), from the first delta's id/type/name and all fragments."""
    calls: dict[tuple[int, int], dict[str, Any]] = {}
    for chunk in stream.chunks:
        for choice in chunk.choices:
            cindex = choice.get("index")
            items = _delta(choice).get("tool_calls")
            if not isinstance(cindex, int) or not isinstance(items, list):
                continue
            for item in items:
                if not isinstance(item, dict) or not isinstance(item.get("index"), int):
                    continue
                key = (cindex, item["index"])
                raw = item.get("function")
                function: dict[str, Any] = raw if isinstance(raw, dict) else {}
                state = calls.setdefault(
                    key,
                    {"id": item.get("id"), "type": item.get("type"), "name": None, "args": ""},
                )
                if state["name"] is None and isinstance(function.get("name"), str):
                    state["name"] = function["name"]
                fragment = function.get("arguments")
                if isinstance(fragment, str):
                    state["args"] += fragment
    return [ToolCall(c, i, s["id"], s["type"], s["name"], s["args"]) for (c, i), s in calls.items()]


def tool_call_delta_notes(stream: ChatStream) -> list[str]:
    """Legal but unusual tool-call deltas: ``type`` repeated after a call's first delta."""
    notes: list[str] = []
    seen: set[tuple[Any, Any]] = set()
    for chunk in stream.chunks:
        for choice in chunk.choices:
            items = _delta(choice).get("tool_calls")
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, dict):
                    continue
                key = (choice.get("index"), item.get("index"))
                if key in seen and item.get("type") is not None:
                    notes.append(
                        f"chunk {chunk.position}: call {item.get('index')} repeats type on a "
                        "later delta (openai-python tolerates it; naive accumulators do not)"
                    )
                seen.add(key)
    return notes


def tool_call_delta_problems(stream: ChatStream, tool_names: set[str]) -> list[str]:
    """``ChatCompletionMessageToolCallChunk`` rules as OpenAI streams them.

    Every item has an integer ``index``; ``id``, ``type: function`` and ``function.name`` come
    once, on the first delta of that index; ``arguments`` are string fragments whose
    concatenation is a JSON object; the name is one of the declared tools.
    """
    problems: list[str] = []
    seen: set[tuple[int, int]] = set()
    for chunk in stream.chunks:
        for choice in chunk.choices:
            cindex = choice.get("index")
            items = _delta(choice).get("tool_calls")
            if items is None:
                continue
            if not isinstance(items, list):
                problems.append(f"chunk {chunk.position}: delta.tool_calls is {items!r}")
                continue
            for item in items:
                where = f"chunk {chunk.position}"
                if not isinstance(item, dict):
                    problems.append(f"{where}: tool_calls item {item!r} is not an object")
                    continue
                index = item.get("index")
                if type(index) is not int:
                    problems.append(f"{where}: tool_calls item has index {index!r}, not an int")
                    continue
                key = (cindex if isinstance(cindex, int) else -1, index)
                function = item.get("function")
                function = function if isinstance(function, dict) else {}
                fragment = function.get("arguments")
                if "arguments" in function and not isinstance(fragment, str):
                    problems.append(
                        f"{where}: call {index} arguments is {type(fragment).__name__}, "
                        "not a string fragment"
                    )
                if key not in seen:
                    seen.add(key)
                    call_id = item.get("id")
                    if not isinstance(call_id, str) or not call_id:
                        problems.append(f"{where}: call {index} first delta has id {call_id!r}")
                    if item.get("type") != "function":
                        problems.append(
                            f"{where}: call {index} first delta has type {item.get('type')!r}"
                        )
                    name = function.get("name")
                    if not isinstance(name, str) or name not in tool_names:
                        problems.append(
                            f"{where}: call {index} first delta has name {name!r}; "
                            f"declared tools are {sorted(tool_names)}"
                        )
                else:
                    # openai-python's stream helper (lib/streaming/_deltas.accumulate_delta)
                    # concatenates repeated strings, except `index` and `type`: a repeated id
                    # or name corrupts the call; a repeated type is only a note.
                    repeated = ["id"] if item.get("id") is not None else []
                    if function.get("name") is not None:
                        repeated.append("function.name")
                    if repeated:
                        problems.append(
                            f"{where}: call {index} repeats {', '.join(repeated)} on a later "
                            "delta (clients that concatenate deltas corrupt them)"
                        )
    for call in accumulate_tool_calls(stream):
        try:
            parsed = json.loads(call.arguments)
        except ValueError:
            problems.append(
                f"call {call.index}: concatenated arguments {call.arguments[:120]!r} are not JSON"
            )
            continue
        if not isinstance(parsed, dict):
            problems.append(f"call {call.index}: arguments are {parsed!r}, not a JSON object")
    if not seen:
        problems.append("no tool_calls delta in the stream")
    return problems
