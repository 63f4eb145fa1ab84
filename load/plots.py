"""Inline SVG plots for the HTML load report: histograms, line charts and quantile curves with
readable axes (round tick values, units on both axes, a grid), no network, no JS.

Tick values are "nice" numbers (1, 2, 2.5 or 5 times a power of ten) spanning the data, so an
axis reads 0, 50, 100, 150 ms rather than 0, 37.2, 74.4 ms.

Must not: perform I/O or compute metrics (callers pass the numbers in).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["histogram_svg", "lines_svg", "nice_ticks", "quantiles_svg"]

_W, _H = 560, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 14, 44
_COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea")
_PLOT_W, _PLOT_H = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"ticks need finite bounds, got {low!r}, {high!r}")
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _label(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"


def _frame(title: str, name: str, body: str) -> str:
    return (
        f'<figure class="plot" data-plot="{escape(name)}"><figcaption>{escape(title)}'
        f'</figcaption><svg xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{escape(title)}" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}">'
        f"{body}</svg></figure>"
    )


def _empty(title: str, name: str) -> str:
    return _frame(title, name, '<text x="20" y="40">no data</text>')


class _Axes:
    """Maps data to pixels over nice ticks; draws the grid, the tick labels and axis titles."""

    def __init__(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        x_title: str,
        y_title: str,
        *,
        y_zero: bool = True,
    ) -> None:
        self.x_ticks = nice_ticks(min(xs), max(xs))
        self.y_ticks = nice_ticks(min(0.0, *ys) if y_zero else min(ys), max(ys))
        self.x_title, self.y_title = x_title, y_title

    def x(self, value: float) -> float:
        lo, hi = self.x_ticks[0], self.x_ticks[-1]
        return _LEFT + (value - lo) / (hi - lo) * _PLOT_W

    def y(self, value: float) -> float:
        lo, hi = self.y_ticks[0], self.y_ticks[-1]
        return _TOP + _PLOT_H - (value - lo) / (hi - lo) * _PLOT_H

    def draw(self) -> str:
        parts = []
        for t in self.y_ticks:
            y = self.y(t)
            parts.append(
                f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_W - _RIGHT}" y2="{y:.1f}" stroke="#e5e7eb"/>'
                f'<text x="{_LEFT - 6}" y="{y + 3.5:.1f}" font-size="11" text-anchor="end">'
                f"{_label(t)}</text>"
            )
        for t in self.x_ticks:
            x = self.x(t)
            parts.append(
                f'<line x1="{x:.1f}" y1="{_TOP + _PLOT_H}" x2="{x:.1f}" y2="{_TOP + _PLOT_H + 4}" '
                f'stroke="#444"/><text x="{x:.1f}" y="{_TOP + _PLOT_H + 17}" font-size="11" '
                f'text-anchor="middle">{_label(t)}</text>'
            )
        bottom = _TOP + _PLOT_H
        parts.append(
            f'<line x1="{_LEFT}" y1="{bottom}" x2="{_W - _RIGHT}" y2="{bottom}" stroke="#444"/>'
            f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{bottom}" stroke="#444"/>'
            f'<text x="{_LEFT + _PLOT_W / 2}" y="{_H - 6}" font-size="12" text-anchor="middle">'
            f"{escape(self.x_title)}</text>"
            f'<text x="14" y="{_TOP + _PLOT_H / 2}" font-size="12" text-anchor="middle" '
            f'transform="rotate(-90 14 {_TOP + _PLOT_H / 2})">{escape(self.y_title)}</text>'
        )
        return "".join(parts)


def _legend(names: Sequence[str], *, left: bool = False) -> str:
    x, anchor = (_LEFT + 8, "start") if left else (_W - _RIGHT - 4, "end")
    return "".join(
        f'<text x="{x}" y="{_TOP + 14 + 14 * i}" font-size="12" text-anchor="{anchor}" '
        f'fill="{_COLOURS[i % len(_COLOURS)]}">{escape(name)}</text>'
        for i, name in enumerate(names)
    )


def histogram_svg(
    title: str,
    name: str,
    values: Sequence[float],
    unit: str,
    *,
    y_title: str = "count",
    bins: int = 40,
) -> str:
    """A histogram clipped at the 99.5th percentile (the tail is counted in the last bar)."""
    if not values:
        return _empty(title, name)
    ordered = sorted(values)
    low = ordered[0]
    high = ordered[min(len(ordered) - 1, int(len(ordered) * 0.995))]
    if high <= low:
        high = low + 1.0
    counts = [0] * bins
    for v in ordered:
        counts[min(bins - 1, max(0, int((v - low) / (high - low) * bins)))] += 1
    axes = _Axes([low, high], [0.0, float(max(counts))], unit, y_title)
    width = (high - low) / bins
    bars = "".join(
        f'<rect x="{axes.x(low + i * width):.1f}" y="{axes.y(c):.1f}" '
        f'width="{max(axes.x(low + (i + 1) * width) - axes.x(low + i * width) - 1, 1):.1f}" '
        f'height="{axes.y(0) - axes.y(c):.1f}" fill="{_COLOURS[0]}">'
        f"<title>{low + i * width:.3f}-{low + (i + 1) * width:.3f} {escape(unit)}: {c}</title></rect>"
        for i, c in enumerate(counts)
    )
    return _frame(title, name, axes.draw() + bars)


def lines_svg(
    title: str,
    name: str,
    series: Mapping[str, Sequence[tuple[float, float]]],
    x_title: str,
    y_title: str,
    *,
    y_zero: bool = True,
    legend_left: bool = False,
) -> str:
    """One polyline per named series of (x, y) points, sharing axes (y from 0 unless told)."""
    points = [p for s in series.values() for p in s]
    if not points:
        return _empty(title, name)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    axes = _Axes(xs, ys, x_title, y_title, y_zero=y_zero)
    body = [axes.draw()]
    for i, pts in enumerate(series.values()):
        coords = " ".join(f"{axes.x(x):.1f},{axes.y(y):.1f}" for x, y in pts)
        colour = _COLOURS[i % len(_COLOURS)]
        body.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" points="{coords}"/>'
        )
    body.append(_legend(list(series), left=legend_left))
    return _frame(title, name, "".join(body))


def quantiles_svg(title: str, name: str, series: Mapping[str, Sequence[float]], unit: str) -> str:
    """Quantile curves on one chart: x the percentile (0-100), y the value at it, per series."""
    curves: dict[str, list[tuple[float, float]]] = {}
    for label, values in series.items():
        ordered = sorted(values)
        if not ordered:
            continue
        n = len(ordered)
        step = max(1, n // 200)  # at most ~200 points a curve
        idx = sorted({*range(0, n, step), n - 1})
        curves[label] = [(100.0 * i / max(1, n - 1), ordered[i]) for i in idx]
    if not curves:
        return _empty(title, name)
    # Quantile curves rise to the right: the legend goes top left, and the y axis spans the
    # data (from 0 the curves of a 50 ms TTFT would be flat lines at the top).
    return lines_svg(title, name, curves, "percentile", unit, y_zero=False, legend_left=True)
