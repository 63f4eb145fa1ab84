from __future__ import annotations

import pytest

from tests.conformance.fakes.variants import variant_ids

PREFIXES = "models."
VARIANTS = variant_ids(PREFIXES)


@pytest.mark.parametrize("check_id", VARIANTS, ids=VARIANTS)
def test_models_check_trips_alone_on_its_broken_variant(failed_on_variant, check_id: str) -> None:
    failed = failed_on_variant(check_id)
    assert set(failed) == {check_id}, failed
