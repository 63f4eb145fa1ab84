"""The fuzz layer plugged into the runner: one schemathesis run, one result per failure kind."""

from __future__ import annotations

import asyncio

import pytest

import conformance.fuzz.checks as fuzz_checks
from conformance.profiles import OPENAI
from conformance.registry import registry
from conformance.runner import run_checks
from conformance.target import Target
from tests.fuzz.apps import KEY, MODEL, build_app
from tests.live import serve

FUZZ_IDS = sorted({*fuzz_checks.CHECK_IDS.values(), "fuzz.run.completed"})


def test_fuzz_checks_registered_at_deep_level_in_area_fuzz() -> None:
    specs = [registry.get(check_id) for check_id in FUZZ_IDS]
    assert len(specs) == 10
    assert {spec.area for spec in specs} == {"fuzz"}
    assert {spec.level for spec in specs} == {"deep"}
    assert all(spec.source and spec.asserts for spec in specs)


@pytest.mark.slow
def test_fuzz_checks_fan_out_one_run_into_results_per_kind() -> None:
    with serve(build_app("bad_seventh_chunk")) as origin:
        target = Target(
            base_url=f"{origin}/v1",
            api_key=KEY,
            level="deep",
            profile=OPENAI,
            models={"chat": MODEL},
            max_requests=250,
            seed=3,
        )
        specs = [registry.get(check_id) for check_id in FUZZ_IDS]
        run = asyncio.run(run_checks(target, specs, discover=False, check_timeout=90))
    results = run.by_id()
    stream = results["fuzz.stream.chunk_schema"]
    assert stream.outcome == "failed", stream.message
    assert "stream chunk 7 of " in stream.message
    assert "--seed 3" in stream.message
    assert "$PARITY_API_KEY" in stream.message
    assert KEY not in stream.message
    assert stream.evidence is not None
    assert stream.evidence.content_type == "text/event-stream"
    others = {r.id: r.outcome for r in run.results if r.id != "fuzz.stream.chunk_schema"}
    assert set(others.values()) == {"passed"}, {r.id: r.message for r in run.results}
    # the fuzz requests count against --max-requests, and stay within it
    assert 200 <= run.requests <= 250
    assert run.tokens.total > 0
