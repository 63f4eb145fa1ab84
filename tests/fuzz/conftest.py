"""Fixtures for the fuzz layer's tests: the legal and broken chat servers, fuzzed live."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.fuzz import FuzzReport, FuzzSettings, FuzzTarget, run_fuzz
from tests.fuzz.apps import KEY, MODEL, Variant, build_app
from tests.live import serve

FuzzApp = Callable[[Variant, FuzzSettings], FuzzReport]


@pytest.fixture
def fuzz_app() -> FuzzApp:
    """Fuzz a live variant of the test app with ``settings`` (seed 1) and return the report."""

    def run(variant: Variant, settings: FuzzSettings) -> FuzzReport:
        with serve(build_app(variant)) as origin:
            target = FuzzTarget(f"{origin}/v1", KEY, {"chat": MODEL})
            return run_fuzz(target, settings, seed=1)

    return run
