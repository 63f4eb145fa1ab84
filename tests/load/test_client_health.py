"""The client's own health verdict: saturated by CPU or by event-loop lag, per process."""

from __future__ import annotations

from load.client_health import assess_client


def test_client_health_a_process_without_cpu_samples_is_judged_on_lag() -> None:
    # A worker that stopped within its first second reports lag samples but no CPU share yet.
    health = assess_client(
        [
            {"pid": 1, "cpu": [], "lag_ms": [0.5, 0.7]},
            {"pid": 2, "cpu": [0.4, 0.5], "lag_ms": [0.6]},
        ]
    )
    assert health["processes"] == 2
    assert health["cpu_max"] == 0.5
    assert health["saturated"] is False


def test_client_health_cpu_and_lag_each_saturate() -> None:
    busy = assess_client([{"pid": 7, "cpu": [0.95, 0.97], "lag_ms": [1.0]}])
    late = assess_client([{"pid": 8, "cpu": [0.2], "lag_ms": [1.0] * 98 + [80.0, 90.0]}])
    assert busy["saturated"]
    assert "process 7 used 96% of a core" in busy["reasons"][0]
    assert late["saturated"]
    assert "event loop lag p99" in late["reasons"][0]
    assert assess_client([])["cpu_max"] is None
