from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance.fakes.base import API_KEY, Switch, cached_tls
from tests.conformance.fakes.variants import BROKEN, judged_ids, variant_ids
from tests.live import serve

PREFIXES = ("chat.completion.", "chat.params.", "chat.tools.", "chat.format.")
VARIANTS = [i for p in PREFIXES for i in variant_ids(p)]


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[Switch, str]]:
    switch = Switch()
    with cached_tls(), serve(switch) as origin:
        yield switch, origin


@pytest.mark.parametrize("check_id", VARIANTS, ids=VARIANTS)
def test_chat_check_trips_alone_on_its_broken_variant(fake, run_ids, check_id: str) -> None:
    switch, origin = fake
    switch.use(BROKEN[check_id])
    results = run_ids(origin, judged_ids(check_id), api_key=API_KEY, level="deep")
    failed = {i: r.message for i, r in results.items() if r.outcome == "failed"}
    assert set(failed) == {check_id}, failed
