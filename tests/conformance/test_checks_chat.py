from __future__ import annotations

import pytest

from tests.conformance.fakes.variants import variant_ids

PREFIXES = ("chat.completion.", "chat.params.", "chat.tools.", "chat.format.")
VARIANTS = [i for p in PREFIXES for i in variant_ids(p)]


@pytest.mark.parametrize("check_id", VARIANTS, ids=VARIANTS)
def test_chat_check_trips_alone_on_its_broken_variant(failed_on_variant, check_id: str) -> None:
    failed = failed_on_variant(check_id)
    assert set(failed) == {check_id}, failed
