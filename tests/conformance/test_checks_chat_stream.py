from __future__ import annotations

import pytest

from tests.conformance.fakes.base import API_KEY, Knobs
from tests.conformance.fakes.variants import variant_ids

PREFIXES = "chat.stream."
VARIANTS = variant_ids(PREFIXES)


@pytest.mark.parametrize("check_id", VARIANTS, ids=VARIANTS)
def test_chat_stream_check_trips_alone_on_its_broken_variant(
    failed_on_variant, check_id: str
) -> None:
    failed = failed_on_variant(check_id)
    assert set(failed) == {check_id}, failed


def test_chat_stream_repeated_tool_call_type_is_only_a_warning(fake, run_ids) -> None:
    switch, origin = fake
    switch.use(Knobs(tool_delta_repeat_type=True))
    results = run_ids(origin, ["chat.stream.tool_call_deltas"], api_key=API_KEY, level="deep")
    result = results["chat.stream.tool_call_deltas"]
    assert result.outcome == "warning", result
    assert "repeats type" in result.message
