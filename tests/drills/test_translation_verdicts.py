"""The translation drills' verdict rules, each shown failing on the mistake it names and passing
what is legal but unusual."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from conformance.drills.profile import Route
from conformance.drills.translation_verdicts import (
    judge_finish,
    judge_prompt,
    judge_round_trip,
    judge_tool_calls,
    judge_truncation,
    judge_usage,
    ledger_usage,
    served_cost,
)
from conformance.drills.verdicts import Served

SENT = [
    {"role": "system", "content": "Be a keeper."},
    {"role": "user", "content": "one"},
    {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
    {"role": "user", "content": [{"type": "text", "text": "two"}]},
    {"role": "assistant", "content": "three"},
]


def received(system: Any, *turns: tuple[str, str]) -> dict[str, Any]:
    return {"system": system, "messages": [{"role": r, "text": t} for r, t in turns]}


def test_prompt_arrived_even_split_or_joined_differently() -> None:
    joined = received("Be a keeper.\n\nBe brief.", ("user", "one\ntwo"), ("assistant", "three"))
    split = received(
        "Be a keeper. Be brief.", ("user", "one"), ("user", "two"), ("assistant", "three")
    )
    assert judge_prompt(SENT, joined) == []
    assert judge_prompt(SENT, split) == []


@pytest.mark.parametrize(
    ("ledger", "found"),
    [
        (received(None, ("user", "one two"), ("assistant", "three")), "missing from"),
        (
            received(None, ("user", "Be a keeper. Be brief. one two"), ("assistant", "three")),
            "arrived as conversation text",
        ),
        (
            received("Be brief. Be a keeper.", ("user", "one two"), ("assistant", "three")),
            "Be brief",
        ),
        (received("Be a keeper. Be brief.", ("user", "one two")), "the conversation arrived"),
    ],
    ids=["dropped", "as_user_text", "reordered", "turn_lost"],
)
def test_prompt_problems(ledger: dict[str, Any], found: str) -> None:
    problems = judge_prompt(SENT, ledger)
    assert problems
    assert found in " ".join(problems)


EMITTED = [
    {"id": "toolu_1", "name": "a", "input": '{"x": 1}'},
    {"id": "toolu_2", "name": "b", "input": "{}"},
]


def test_tool_calls_compared_by_value_with_ids_of_their_own() -> None:
    assert judge_tool_calls([("call_1", "a", '{"x":1}'), ("call_2", "b", "{ }")], EMITTED) == []
    assert "emitted 2 tool call(s)" in judge_tool_calls([("c", "a", "{}")], EMITTED)[0]
    problems = judge_tool_calls([("c", "b", {"x": 1}), ("c", "b", '{"y": 2}')], EMITTED)
    text = " ".join(problems)
    assert "an id of its own" in text
    assert "name 'b'" in text
    assert "not the JSON string" in text
    assert "are not the input the upstream emitted" in text


def _back(uses: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "user", "text": "go", "tool_uses": [], "tool_results": []},
            {"role": "assistant", "text": "", "tool_uses": uses, "tool_results": []},
            {"role": "user", "text": "", "tool_uses": [], "tool_results": results},
        ]
    }


CALLS = [{"function": {"name": "a"}}, {"function": {"name": "b"}}]


def test_round_trip_pairs_results_with_the_uses_they_answer() -> None:
    uses = [{"id": "x1", "name": "a", "input": '{"x":1}'}, {"id": "x2", "name": "b", "input": "{}"}]
    results = [{"tool_use_id": "x1", "text": "r one"}, {"tool_use_id": "x2", "text": "r two"}]
    assert judge_round_trip(CALLS, ["r one", "r two"], EMITTED, _back(uses, results)) == []
    assert "dropped" in judge_round_trip(CALLS, [], EMITTED, {"messages": []})[0]
    swapped = [dict(results[0], tool_use_id="x2"), dict(results[1], tool_use_id="x1")]
    changed = [dict(uses[0], input='{"x": 2}', name="z"), uses[1]]
    text = " ".join(judge_round_trip(CALLS, ["r one", "other"], EMITTED, _back(changed, swapped)))
    for expected in ("do not pair", "came back with input", "received tool uses", "arrived as"):
        assert expected in text


@pytest.mark.parametrize(
    ("finish", "stop", "calls", "ok"),
    [
        ("stop", "end_turn", 0, True),
        ("stop", "stop_sequence", 0, True),
        ("length", "max_tokens", 0, True),
        ("tool_calls", "tool_use", 1, True),
        ("stop", "tool_use", 0, True),
        ("content_filter", "refusal", 0, True),
        ("stop", "max_tokens", 0, False),
        ("end_turn", "end_turn", 0, False),
        ("stop", "tool_use", 1, False),
        ("stop", "something_new", 0, False),
    ],
    ids=[
        "end_turn",
        "stop_sequence",
        "max_tokens",
        "tool_use",
        "json_tool",
        "refusal",
        "length_as_stop",
        "leaked",
        "tool_calls_as_stop",
        "unknown",
    ],
)
def test_finish_reason_says_what_the_stop_reason_said(
    finish: str, stop: str, calls: int, ok: bool
) -> None:
    assert (judge_finish(finish, stop, calls) == []) is ok


def test_truncation_only_by_a_small_default_the_client_did_not_ask_for() -> None:
    assert judge_truncation(None, {"max_tokens": 16}, "max_tokens")
    assert judge_truncation(None, {"max_tokens": 64_000}, "max_tokens") == []
    assert judge_truncation(3, {"max_tokens": 3}, "max_tokens") == []
    assert judge_truncation(None, {"max_tokens": 16}, "end_turn") == []


SERVED_USAGE = {
    "input_tokens": 3,
    "cache_creation_input_tokens": 20,
    "cache_read_input_tokens": 1000,
    "output_tokens": 9,
}


def test_usage_counts_every_input_token() -> None:
    good = {
        "prompt_tokens": 1023,
        "completion_tokens": 9,
        "total_tokens": 1032,
        "prompt_tokens_details": {"cached_tokens": 1000},
    }
    assert judge_usage(good, SERVED_USAGE) == []
    lost = {**good, "prompt_tokens": 3, "total_tokens": 12, "prompt_tokens_details": None}
    text = " ".join(judge_usage(lost, SERVED_USAGE))
    assert "prompt_tokens is 3" in text
    assert "total_tokens is 12" in text
    assert "cached_tokens is None" in text
    assert judge_usage(None, SERVED_USAGE) == ["the client got usage None, not an object"]
    assert "no usage" in judge_usage(good, None)[0]


def test_cost_prices_cache_tokens_at_their_own_prices_when_given() -> None:
    plain = Route("u", Decimal(3), Decimal(15))
    cached = Route("u", Decimal(3), Decimal(15), Decimal("0.3"), Decimal("3.75"))
    free_input = Route("u", Decimal(0), Decimal(15), Decimal("0.3"), None)
    assert served_cost(SERVED_USAGE, plain, Decimal(0)) == Decimal("0.003204")
    # (3 x 3 + 1000 x 0.3 + 20 x 3.75 + 9 x 15) / 1e6
    assert served_cost(SERVED_USAGE, cached, Decimal(0)) == Decimal("0.000519")
    assert served_cost(SERVED_USAGE, free_input, Decimal(0)) == Decimal("0.000435")


def test_ledger_usage_splits_the_entry_by_its_own_cache_counts() -> None:
    entry = Served("u", 200, True, 1023, 9, "", answered={"usage": SERVED_USAGE})
    assert ledger_usage(entry) == SERVED_USAGE
    plain = Served("u", 200, True, 12, 4, "")
    assert ledger_usage(plain) == {
        "input_tokens": 12,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
        "output_tokens": 4,
    }
