from __future__ import annotations

import pytest

from tests.conformance.fakes.base import API_KEY
from tests.conformance.fakes.variants import BROKEN

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
