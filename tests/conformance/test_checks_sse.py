from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance.fakes.base import API_KEY, Switch, cached_tls
from tests.conformance.fakes.variants import BROKEN, judged_ids, variant_ids
from tests.live import serve

PREFIXES = "sse."
VARIANTS = variant_ids(PREFIXES)


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[Switch, str]]:
    switch = Switch()
    with cached_tls(), serve(switch) as origin:
        yield switch, origin


@pytest.mark.parametrize("check_id", VARIANTS, ids=VARIANTS)
def test_sse_check_trips_alone_on_its_broken_variant(fake, run_ids, check_id: str) -> None:
    switch, origin = fake
    switch.use(BROKEN[check_id])
    results = run_ids(origin, judged_ids(check_id), api_key=API_KEY, level="deep")
    failed = {i: r.message for i, r in results.items() if r.outcome == "failed"}
    assert set(failed) == {check_id}, failed


SDK_BREAKERS = [
    "sse.framing.no_empty_events",
    "sse.framing.json_payloads",
    "sse.framing.utf8",
    "chat.stream.error_object",
]


@pytest.mark.parametrize("check_id", SDK_BREAKERS, ids=SDK_BREAKERS)
def test_sse_broken_variant_really_breaks_the_official_sdk(fake, check_id: str) -> None:
    """Why these are failures, not warnings: openai-python raises on each of them."""
    import openai

    switch, origin = fake
    switch.use(BROKEN[check_id])
    client = openai.OpenAI(base_url=f"{origin}/v1", api_key=API_KEY, max_retries=0)
    stream = client.chat.completions.create(
        model="fake-chat", messages=[{"role": "user", "content": "Say hi"}], stream=True
    )
    with pytest.raises((ValueError, openai.APIError)):
        list(stream)
