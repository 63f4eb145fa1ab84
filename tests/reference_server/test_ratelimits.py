"""Rate limits: GCRA behaviour, OpenAI header formats, accuracy over a simulated window."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_server.controls.ratelimits import (
    Limit,
    adjust,
    go_duration,
    limit_headers,
    retry_after_headers,
    take,
)


def test_ratelimits_full_burst_from_rest_then_refuse():
    limit = Limit("requests", 10, 60.0)
    tat = None
    for n in range(10):
        verdict = take(limit, tat, 1000.0, 1)
        assert verdict.allowed, n
        assert verdict.remaining == 9 - n
        tat = verdict.tat
    refused = take(limit, tat, 1000.0, 1)
    assert not refused.allowed
    assert refused.remaining == 0
    assert refused.retry_after_s == pytest.approx(6.0)
    assert refused.tat == tat  # a refusal changes nothing


def test_ratelimits_refill_at_one_interval():
    limit = Limit("requests", 10, 60.0)
    tat = None
    for _ in range(10):
        tat = take(limit, tat, 0.0, 1).tat
    assert not take(limit, tat, 5.9, 1).allowed
    assert take(limit, tat, 6.0, 1).allowed


def test_ratelimits_cost_larger_than_limit_never_fits():
    verdict = take(Limit("tokens", 100, 60.0), None, 0.0, 101)
    assert not verdict.allowed
    assert verdict.retry_after_s is None


def test_ratelimits_adjust_refunds_but_not_below_now():
    limit = Limit("tokens", 100, 60.0)
    tat = take(limit, None, 0.0, 50).tat  # 30 s ahead
    assert adjust(limit, tat, 0.0, -20) == pytest.approx(18.0)
    assert adjust(limit, tat, 0.0, -500) == 0.0
    assert adjust(limit, tat, 0.0, 10) == pytest.approx(36.0)


@given(st.integers(1, 500), st.floats(1.0, 120.0), st.floats(0.5, 5.0))
def test_ratelimits_accepted_over_window_matches_formula(limit_n, period, window_periods):
    """Hammering at a fine grain for W seconds admits L + floor(L*W/P) (+1 at the boundary)."""
    limit = Limit("requests", limit_n, period)
    window = window_periods * period
    tat = None
    accepted = 0
    steps = 4 * limit_n * int(window_periods + 1)
    for i in range(steps + 1):
        now = window * i / steps
        verdict = take(limit, tat, now, 1)
        if verdict.allowed:
            accepted += 1
            tat = verdict.tat
    expected = limit_n + limit_n * window / period
    assert expected - 2 <= accepted <= expected + 1


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.02, "20ms"),
        (0.0001, "1ms"),
        (1, "1s"),
        (2.383, "2.383s"),
        (360, "6m0s"),
        (61.5, "1m1.5s"),
        (3600, "1h0m0s"),
    ],
    ids=["zero", "20ms", "sub-ms-rounds-up", "1s", "fraction", "6m0s", "minute-fraction", "hour"],
)
def test_ratelimits_go_duration_like_openai(seconds, text):
    assert go_duration(seconds) == text


def test_ratelimits_headers_names_and_values():
    limit = Limit("requests", 3, 60.0)
    headers = limit_headers(limit, take(limit, None, 0.0, 1))
    assert headers == {
        "x-ratelimit-limit-requests": "3",
        "x-ratelimit-remaining-requests": "2",
        "x-ratelimit-reset-requests": "20s",
    }
    assert retry_after_headers(0.2) == {"retry-after": "1", "retry-after-ms": "200"}


def test_ratelimits_rejects_zero_limit():
    with pytest.raises(ValueError, match="got 0"):
        Limit("requests", 0)
