from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.fakes.base import API_KEY, Knobs
from tests.conformance.fakes.variants import BROKEN, LEGAL, judged_ids


def test_checks_correct_fake_passes_everything(fake, run_ids) -> None:
    switch, origin = fake
    switch.use(Knobs())
    results = run_ids(origin, judged_ids(), api_key=API_KEY, level="deep")
    assert set(results) == set(BROKEN)
    outcomes = {i: (r.outcome, r.message) for i, r in results.items() if r.outcome != "passed"}
    # Only the timing check may decline to judge: the unpaced fake answers in a few ms.
    assert set(outcomes) <= {"chat.stream.incremental"}, outcomes
    assert outcomes.get("chat.stream.incremental", ("skipped",))[0] == "skipped"


def test_checks_paced_stream_is_judged_incremental(fake, run_ids) -> None:
    switch, origin = fake
    switch.use(Knobs(itl=0.012))
    results = run_ids(origin, ["chat.stream.incremental"], api_key=API_KEY, level="deep")
    assert results["chat.stream.incremental"].outcome == "passed", results


@pytest.mark.parametrize("name", list(LEGAL), ids=list(LEGAL))
def test_checks_legal_variant_streams_cleanly_through_the_official_sdk(fake, name: str) -> None:
    """The legal catalogue is legal by the oracle that matters most: openai-python consumes
    each variant's stream (and its non-stream answer) without raising."""
    import openai

    switch, origin = fake
    switch.use(LEGAL[name])
    client = openai.OpenAI(base_url=f"{origin}/v1", api_key=API_KEY, max_retries=0)
    messages: Any = [{"role": "user", "content": "Count from 1 to 5, separated by spaces."}]
    stream = client.chat.completions.create(
        model="fake-chat", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "1 2 3 4 5"
    assert chunks[-1].usage is not None
    completion = client.chat.completions.create(model="fake-chat", messages=messages)
    assert completion.choices[0].message.content == "1 2 3 4 5"
