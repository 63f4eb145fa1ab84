"""Readable axes: round tick values that span the data, units on the axes."""

from __future__ import annotations

import re

import pytest

from load.plots import histogram_svg, lines_svg, nice_ticks, quantiles_svg


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.0, 37.2, [0, 10, 20, 30, 40]),
        (0.0, 1.0, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (48.3, 161.0, [25, 50, 75, 100, 125, 150, 175]),
        (0.0, 9800.0, [0, 2000, 4000, 6000, 8000, 10000]),
        (5.0, 5.0, [5, 6, 7, 8, 9, 10]),
    ],
    ids=["ms", "fraction", "offset", "thousands", "flat"],
)
def test_plots_ticks_are_round_and_span_the_data(
    low: float, high: float, expected: list[float]
) -> None:
    ticks = nice_ticks(low, high)
    assert ticks == pytest.approx(expected)
    assert ticks[0] <= low
    assert ticks[-1] >= high


def test_plots_charts_carry_units_and_round_labels() -> None:
    svg = histogram_svg("TTFT distribution", "ttft", [51.3, 52.9, 60.4, 75.1], "TTFT (ms)")
    assert ">TTFT (ms)</text>" in svg
    labels = re.findall(r'text-anchor="middle">([\d.,]+)</text>', svg)
    assert labels
    assert all(float(x.replace(",", "")) % 5 == 0 for x in labels)
    line = lines_svg("Rate", "rate", {"req/s": [(0, 10.0), (1, 12.5)]}, "time (s)", "requests/s")
    assert ">time (s)</text>" in line
    assert ">requests/s</text>" in line
    assert 'data-plot="rate"' in line
    assert "no data" in quantiles_svg("Empty", "empty", {"a": []}, "ms")
