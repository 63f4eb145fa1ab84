"""Metric definitions of the load harness, on hand-made records with known answers."""

from __future__ import annotations

from typing import Any

import pytest

from load.metrics import derive, distribution, percentile, summarize


def record(**overrides: Any) -> Any:
    base: dict[str, Any] = {
        "kind": "chat-stream",
        "model": "m",
        "key": None,
        "step": None,
        "sched": None,
        "send": 1000.0,
        "headers_ms": 5.0,
        "end_ms": 100.0,
        "status": 200,
        "error": None,
        "detail": None,
        # role chunk at 5 ms, then content at 40, 60, 90 ms, usage at 95
        "chunks": [
            [5.0, "role", 0],
            [40.0, "content", 1],
            [60.0, "content", 1],
            [90.0, "content", 1],
            [95.0, "usage", 0],
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 3},
        "credits": None,
        "retry_after": None,
        "deployment": None,
    }
    base.update(overrides)
    return base


def test_metrics_ttft_skips_the_role_only_chunk() -> None:
    assert derive(record()).ttft_ms == 40.0


def test_metrics_itl_gaps_are_between_token_events() -> None:
    m = derive(record())
    assert m.gaps_ms == (20.0, 30.0)
    assert m.itl_mean_ms == 25.0


def test_metrics_tpot_uses_usage_tokens() -> None:
    # (e2e - ttft) / (n - 1) = (100 - 40) / (3 - 1)
    assert derive(record()).tpot_ms == 30.0
    six = derive(record(usage={"completion_tokens": 6}))
    assert six.tpot_ms == 12.0
    assert six.token_mismatch


def test_metrics_tokens_counted_when_usage_absent() -> None:
    m = derive(record(usage=None))
    assert m.output_tokens == 3
    assert not m.token_mismatch


def test_metrics_open_loop_counts_from_the_schedule() -> None:
    m = derive(record(sched=999.5))  # sent 500 ms late
    assert m.lateness_ms == pytest.approx(500.0)
    assert m.ttft_ms == pytest.approx(540.0)
    assert m.ttft_from_send_ms == 40.0
    assert m.e2e_ms == pytest.approx(600.0)


def test_metrics_percentile_interpolates_linearly() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([10.0], 99) == 10.0
    with pytest.raises(ValueError, match="within"):
        percentile([1.0], 101)


def test_metrics_distribution_of_nothing_is_empty() -> None:
    assert distribution([])["p50"] is None


def test_metrics_summary_counts_failures_by_class_and_pools_gaps() -> None:
    records = [
        record(),
        record(send=1000.05),
        record(status=429, error="rate_limited", chunks=[], usage=None, end_ms=2.0),
    ]
    s = summarize(records)
    assert s["requests"] == 3
    assert s["successes"] == 2
    assert s["failures"] == {"rate_limited": 1}
    assert s["error_rate"] == pytest.approx(1 / 3, abs=1e-5)
    assert s["itl_ms"]["count"] == 4
    assert s["output_tokens"] == 6
    assert s["window_s"] == pytest.approx(0.15)
    assert s["rps"] == pytest.approx(20.0)


def test_metrics_goodput_applies_per_request_limits() -> None:
    records = [record(), record(chunks=[[500.0, "content", 1]], end_ms=600.0)]
    s = summarize(records, goodput_limits={"ttft": 100.0})
    assert s["goodput_ratio"] == 0.5
