from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.fakes.base import API_KEY, Knobs


def test_chat_stream_repeated_tool_call_type_is_only_a_warning(fake, run_ids) -> None:
    switch, origin = fake
    switch.use(Knobs(tool_delta_repeat_type=True))
    results = run_ids(origin, ["chat.stream.tool_call_deltas"], api_key=API_KEY, level="deep")
    result = results["chat.stream.tool_call_deltas"]
    assert result.outcome == "warning", result
    assert "repeats type" in result.message


def _choices(edit: Any) -> Any:
    def apply(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for chunk in chunks:
            for choice in chunk["choices"]:
                edit(choice)
        return chunks

    return apply


def _no_finish(choice: dict[str, Any]) -> None:
    choice["finish_reason"] = None


def _finish_key_only_at_the_end(choice: dict[str, Any]) -> None:
    if choice["finish_reason"] is None:
        del choice["finish_reason"]


@pytest.mark.parametrize(
    ("knobs", "level", "fragments"),
    [
        (
            Knobs(mutate_chunks=_choices(_no_finish)),
            "smoke",
            ("the stream reached [DONE] with no finish_reason on any choice", "choice 0"),
        ),
        (
            Knobs(mutate_chunks=_choices(_finish_key_only_at_the_end)),
            "standard",
            ("lack the finish_reason key (first: chunk 0, choice 0)", "the spec requires it"),
        ),
    ],
    ids=["no-finish-reason-at-all", "finish-reason-key-absent"],
)
def test_chat_stream_finish_reason_names_what_is_missing_below_deep(
    fake, run_ids, knobs: Knobs, level: str, fragments: tuple[str, ...]
) -> None:
    switch, origin = fake
    switch.use(knobs)
    check_id = "chat.stream.finish_reason"
    result = run_ids(origin, [check_id], api_key=API_KEY, level=level)[check_id]
    assert result.outcome == "failed", result
    assert all(f in result.message for f in fragments), result.message


def test_chat_stream_finish_reason_also_judges_the_plain_stream_above_smoke(fake, run_ids) -> None:
    """A stream without stream_options that never finishes is caught at standard, not smoke."""

    def plain_only(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if any("usage" in c for c in chunks):
            return chunks
        return _choices(_no_finish)(chunks)

    switch, origin = fake
    switch.use(Knobs(mutate_chunks=plain_only))
    check_id = "chat.stream.finish_reason"
    smoke = run_ids(origin, [check_id], api_key=API_KEY, level="smoke")[check_id]
    standard = run_ids(origin, [check_id], api_key=API_KEY, level="standard")[check_id]
    assert smoke.outcome == "passed", smoke
    assert standard.outcome == "failed", standard
