from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.exchange import Exchange, Read
from conformance.streams import (
    accumulate_content,
    accumulate_tool_calls,
    finish_problems,
    parse_chat_stream,
    role_problems,
    tool_call_delta_notes,
    tool_call_delta_problems,
    usage_arithmetic,
    usage_problems,
)

USAGE = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": choices, **extra}  # fmt: skip


def delta(index: int = 0, finish: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"index": index, "delta": fields, "finish_reason": finish}


def exchange(*payloads: Any) -> Exchange:
    events = [p if isinstance(p, str) else json.dumps(p) for p in payloads]
    reads = tuple(Read(0.01 * (n + 1), f"data: {e}\n\n".encode()) for n, e in enumerate(events))
    return Exchange(
        method="POST", url="u", request_headers={}, request_body=b"", status=200,
        headers={"content-type": "text/event-stream"}, body=b"".join(r.data for r in reads),
        reads=reads, finished_at=1.0,
    )  # fmt: skip


GOOD = (
    chunk([delta(role="assistant", content="")]),
    chunk([delta(content="Hi ")]),
    chunk([delta(content="there")]),
    chunk([delta(finish="stop")]),
    chunk([], usage=USAGE),
    "[DONE]",
)


def test_streams_parse_a_correct_stream() -> None:
    stream = parse_chat_stream(exchange(*GOOD))
    assert len(stream.chunks) == 5
    assert stream.done_position == 5
    assert stream.after_done == ()
    assert not stream.failed
    assert stream.non_json == ()
    assert [c.at for c in stream.chunks] == pytest.approx([0.01, 0.02, 0.03, 0.04, 0.05])
    assert accumulate_content(stream) == {0: "Hi there"}
    assert role_problems(stream) == []
    assert finish_problems(stream) == []
    assert usage_problems(stream, asked=True) == []


def test_streams_sort_payloads_into_chunks_errors_and_non_json() -> None:
    stream = parse_chat_stream(
        exchange(GOOD[0], "not json", "[1, 2]", {"error": {"message": "x"}}, "[DONE]", GOOD[1])
    )
    assert stream.non_json == ("not json", "[1, 2]")
    assert stream.failed
    assert len(stream.after_done) == 1


def test_streams_role_rules_per_choice() -> None:
    stream = parse_chat_stream(
        exchange(
            chunk([delta(0, role="assistant"), delta(1, content="x")]),
            chunk([delta(0, role="")]),
            chunk([delta(0, role=None, content="y")]),
        )
    )
    problems = role_problems(stream)
    assert len(problems) == 2
    assert "choice 1: first delta has role None" in problems[0]
    assert "later delta sets role ''" in problems[1]


@pytest.mark.parametrize(
    ("payloads", "expected"),
    [
        ((chunk([delta(content="a")]),), "choice 0: no chunk carried a finish_reason"),
        ((chunk([delta(finish="stop")]), chunk([delta(finish="stop")])), "another finish_reason"),
        ((chunk([delta(finish="stop")]), chunk([delta(content="late")])), "more content"),
        ((chunk([delta(finish="end_turn")]),), "'end_turn' is not one of"),
        ((chunk([{"delta": {}, "finish_reason": "stop"}]),), "without an integer index"),
        ((chunk([], usage=USAGE),), "no chunk carried any choice"),
    ],
    ids=["missing", "twice", "content-after", "leaked-upstream-reason", "no-index", "no-choices"],
)
def test_streams_finish_problems(payloads: tuple[Any, ...], expected: str) -> None:
    problems = finish_problems(parse_chat_stream(exchange(*payloads)))
    assert any(expected in p for p in problems), problems


def test_streams_finish_reason_per_choice_with_n_2() -> None:
    stream = parse_chat_stream(
        exchange(
            chunk([delta(0, role="assistant"), delta(1, role="assistant")]),
            chunk([delta(1, finish="length")]),
            chunk([delta(0, content="a")]),
            chunk([delta(0, finish="stop")]),
        )
    )
    assert finish_problems(stream) == []
    assert role_problems(stream) == []


@pytest.mark.parametrize(
    ("payloads", "asked", "expected"),
    [
        ((GOOD[3], chunk([], usage=USAGE), chunk([], usage=USAGE)), True, "2 chunks carry usage"),
        ((GOOD[3],), True, "0 chunks carry usage"),
        ((chunk([delta(finish="stop")], usage=USAGE),), True, "expected []"),
        ((chunk([], usage=USAGE), GOOD[3]), True, "is not the last chunk"),
        ((GOOD[3], chunk([], usage={**USAGE, "total_tokens": 6})), True, "!= prompt_tokens"),
        ((chunk([delta()], usage={}), chunk([], usage=USAGE)), True, "usage.prompt_tokens is None"),
        ((GOOD[3], chunk([], usage=USAGE)), False, "although none was asked for"),
        ((GOOD[3], chunk([])), False, "empty choices although no usage"),
    ],
    ids=[
        "two",
        "none",
        "with-choices",
        "not-last",
        "bad-sum",
        "non-null-early",
        "unasked",
        "unasked-empty-choices",
    ],
)
def test_streams_usage_problems(payloads: tuple[Any, ...], asked: bool, expected: str) -> None:
    problems = usage_problems(parse_chat_stream(exchange(*payloads)), asked=asked)
    assert any(expected in p for p in problems), problems


def test_streams_usage_nulls_are_fine_and_absent_usage_is_fine() -> None:
    stream = parse_chat_stream(
        exchange(chunk([delta(finish="stop")], usage=None), chunk([], usage=USAGE))
    )
    assert usage_problems(stream, asked=True) == []
    assert usage_problems(parse_chat_stream(exchange(GOOD[3])), asked=False) == []


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ("x", "not an object"),
        ({"prompt_tokens": -1, "completion_tokens": 1, "total_tokens": 0}, "prompt_tokens is -1"),
        ({"prompt_tokens": 1.0, "completion_tokens": 1, "total_tokens": 2}, "prompt_tokens is 1.0"),
        (
            {"prompt_tokens": True, "completion_tokens": 1, "total_tokens": 2},
            "prompt_tokens is True",
        ),
    ],
    ids=["string", "negative", "float", "bool"],
)
def test_streams_usage_arithmetic_types(usage: Any, expected: str) -> None:
    assert any(expected in p for p in usage_arithmetic(usage))


def call(index: Any, **fields: Any) -> dict[str, Any]:
    return chunk([delta(tool_calls=[{"index": index, **fields}])])


def first(index: int = 0, name: str = "get_weather", **extra: Any) -> dict[str, Any]:
    fn = {"name": name, "arguments": ""}
    return call(index, id=f"call_{index}", type="function", function=fn, **extra)


def args(index: int, fragment: Any) -> dict[str, Any]:
    return call(index, function={"arguments": fragment})


TOOLS = {"get_weather", "get_time"}


def test_streams_repeated_tool_call_type_is_a_note_not_a_problem() -> None:
    stream = parse_chat_stream(exchange(first(0), args(0, "{}"), call(0, type="function")))
    assert tool_call_delta_problems(stream, TOOLS) == []
    assert len(tool_call_delta_notes(stream)) == 1
    assert tool_call_delta_notes(parse_chat_stream(exchange(first(0), args(0, "{}")))) == []


def test_streams_tool_calls_accumulate_by_index() -> None:
    stream = parse_chat_stream(
        exchange(
            first(0), first(1, "get_time"), args(0, '{"city":'), args(1, '{"city": "Oslo"}'),
            args(0, ' "Paris"}'), chunk([delta(finish="tool_calls")]),
        )
    )  # fmt: skip
    assert tool_call_delta_problems(stream, TOOLS) == []
    calls = {c.index: c for c in accumulate_tool_calls(stream)}
    assert calls[0].arguments == '{"city": "Paris"}'
    assert (calls[1].id, calls[1].type, calls[1].name) == ("call_1", "function", "get_time")


@pytest.mark.parametrize(
    ("payloads", "expected"),
    [
        ((call(None, id="c", type="function", function={"name": "get_weather"}),), "index None"),
        ((first(), args(0, {"city": "Paris"})), "arguments is dict"),
        ((first(), args(0, '{"city": "Paris"}'), call(0, id="call_0")), "repeats id"),
        (
            (first(), call(0, function={"name": "get_weather", "arguments": "{}"})),
            "repeats function.name",
        ),
        ((first(name="lookup"), args(0, "{}")), "name 'lookup'"),
        (
            (call(0, type="function", function={"name": "get_weather", "arguments": "{}"}),),
            "has id None",
        ),
        ((first(), args(0, '{"city": ')), "are not JSON"),
        ((first(), args(0, "[1]")), "not a JSON object"),
        ((chunk([delta(content="no tools")]),), "no tool_calls delta"),
        ((chunk([delta(tool_calls={"index": 0})]),), "delta.tool_calls is"),
    ],
    ids=[
        "no-index",
        "object-arguments",
        "repeated-id",
        "repeated-name",
        "undeclared-name",
        "no-id",
        "broken-json",
        "array-json",
        "no-calls",
        "not-a-list",
    ],
)
def test_streams_tool_call_delta_problems(payloads: tuple[Any, ...], expected: str) -> None:
    problems = tool_call_delta_problems(parse_chat_stream(exchange(*payloads)), TOOLS)
    assert any(expected in p for p in problems), problems
