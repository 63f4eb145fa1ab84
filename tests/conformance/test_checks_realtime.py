"""Realtime WebSocket checks: the breadth fake passes them, and the special verdict paths
(each broken and legal variant is run by test_every_check_proven.py)."""

from __future__ import annotations

import pytest

from conformance.realtime import realtime_url, record_session
from tests.conformance.fakes.breadth_run import (
    breadth_origin,  # noqa: F401 - session fixture
    run_variant,
)

AREAS = ("realtime",)


def test_realtime_checks_pass_on_correct_fake(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "ok", AREAS)
    assert results
    assert {i: r.outcome for i, r in results.items() if r.outcome != "passed"} == {}


@pytest.mark.parametrize(
    ("base_url", "model", "expected"),
    [
        (
            "http://127.0.0.1:8000/v1",
            "gpt-realtime",
            "ws://127.0.0.1:8000/v1/realtime?model=gpt-realtime",
        ),
        (
            "https://gw.test/openai/v1/",
            "org/rt:1",
            "wss://gw.test/openai/v1/realtime?model=org%2Frt%3A1",
        ),
    ],
    ids=["http", "https-quoted"],
)
def test_realtime_url_follows_the_base_url(base_url: str, model: str, expected: str) -> None:
    assert realtime_url(base_url, model) == expected


def test_realtime_url_refuses_other_schemes() -> None:
    with pytest.raises(ValueError, match="ftp://x"):
        realtime_url("ftp://x/v1", "m")


def test_realtime_refused_upgrade_is_recorded_with_its_status(breadth_origin: str) -> None:  # noqa: F811
    import asyncio

    url = realtime_url(f"{breadth_origin}/handshake_401/v1", "fake-realtime")
    exchange = asyncio.run(record_session(url, headers={"Authorization": "Bearer sk-wrong"}))
    assert exchange.status == 403
    assert exchange.error
