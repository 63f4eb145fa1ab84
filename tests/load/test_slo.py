"""The --slo grammar and its verdicts."""

from __future__ import annotations

import pytest

from load.errors import SloError
from load.slo import evaluate, goodput_limits, parse_slo


@pytest.mark.parametrize(
    "text",
    ["ttft<", "ttft_p95_ms", "ttft_p95_ms<<3", "ttft_p95_ms<abc", "<5", "ttft_p95_ms = 4"],
    ids=["no-number", "no-op", "double-op", "word", "no-metric", "equals"],
)
def test_slo_malformed_expression_is_one_line(text: str) -> None:
    with pytest.raises(SloError) as info:
        parse_slo(text)
    assert "\n" not in str(info.value)
    assert repr(text) in str(info.value)


def test_slo_unknown_metric_lists_valid_ones() -> None:
    with pytest.raises(SloError, match=r"valid metrics: .*error_rate"):
        parse_slo("latency_p95_ms<4")


def test_slo_evaluates_against_summary() -> None:
    summary = {"ttft_ms": {"p95": 700.0}, "error_rate": 0.02}
    ok, bad = evaluate([parse_slo("ttft_p95_ms<800"), parse_slo("error_rate<0.01")], summary)
    assert ok.passed
    assert ok.value == 700.0
    assert not bad.passed


def test_slo_missing_metric_fails() -> None:
    (verdict,) = evaluate([parse_slo("overspend_credits<=0")], {})
    assert not verdict.passed
    assert verdict.value is None


def test_slo_goodput_limits_keep_the_tightest_bound() -> None:
    slos = [parse_slo("ttft_p95_ms<800"), parse_slo("ttft_p99_ms<=500"), parse_slo("rps>3")]
    assert goodput_limits(slos) == {"ttft": 500.0}
