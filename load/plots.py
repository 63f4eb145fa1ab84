"""Inline SVG plots for the HTML load report: histograms and line charts, no network, no JS.

Must not: perform I/O or compute metrics (callers pass the numbers in).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["histogram_svg", "lines_svg"]

_W, _H, _PAD = 560, 220, 60
_COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea")


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _axis(x_label: str, y_label: str, x_max: float, y_max: float, x_min: float = 0.0) -> str:
    parts = [
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - 10}" y2="{_H - _PAD}" stroke="#444"/>',
        f'<line x1="{_PAD}" y1="10" x2="{_PAD}" y2="{_H - _PAD}" stroke="#444"/>',
        f'<text x="{_W / 2}" y="{_H - 8}" text-anchor="middle" font-size="11">{escape(x_label)}</text>',
        f'<text x="12" y="{_H / 2}" font-size="11" transform="rotate(-90 12 {_H / 2})" '
        f'text-anchor="middle">{escape(y_label)}</text>',
    ]
    for i in range(5):
        frac = i / 4
        x = _PAD + frac * (_W - 10 - _PAD)
        y = _H - _PAD - frac * (_H - _PAD - 10)
        parts.append(
            f'<text x="{x:.1f}" y="{_H - _PAD + 14}" font-size="10" text-anchor="middle">'
            f"{_num(x_min + (x_max - x_min) * frac)}</text>"
        )
        parts.append(
            f'<text x="{_PAD - 4}" y="{y + 3:.1f}" font-size="10" text-anchor="end">'
            f"{_num(y_max * frac)}</text>"
        )
    return "".join(parts)


def _frame(title: str, body: str) -> str:
    return (
        f'<figure><figcaption>{escape(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}">{body}</svg></figure>'
    )


def histogram_svg(title: str, values: Sequence[float], unit: str, *, bins: int = 40) -> str:
    """A histogram clipped at the 99.5th percentile (the tail is counted in the last bar)."""
    if not values:
        return _frame(title, '<text x="20" y="40">no data</text>')
    ordered = sorted(values)
    low = ordered[0]
    high = ordered[min(len(ordered) - 1, int(len(ordered) * 0.995))]
    if high <= low:
        high = low + 1.0
    counts = [0] * bins
    for v in ordered:
        counts[min(bins - 1, max(0, int((v - low) / (high - low) * bins)))] += 1
    peak = max(counts)
    plot_w, plot_h = _W - 10 - _PAD, _H - _PAD - 10
    bar_w = plot_w / bins
    bars = "".join(
        f'<rect x="{_PAD + i * bar_w:.1f}" y="{_H - _PAD - c / peak * plot_h:.1f}" '
        f'width="{max(bar_w - 1, 1):.1f}" height="{c / peak * plot_h:.1f}" fill="{_COLOURS[0]}">'
        f"<title>{low + i * (high - low) / bins:.3f} {escape(unit)}: {c}</title></rect>"
        for i, c in enumerate(counts)
    )
    return _frame(title, _axis(unit, "count", high, peak, x_min=low) + bars)


def lines_svg(
    title: str, series: dict[str, Sequence[tuple[float, float]]], x_label: str, y_label: str
) -> str:
    """One polyline per named series of (x, y) points, sharing axes."""
    points = [p for s in series.values() for p in s]
    if not points:
        return _frame(title, '<text x="20" y="40">no data</text>')
    x_min = min(p[0] for p in points)
    x_max = max(*(p[0] for p in points), x_min + 1e-09)
    y_max = max(*(p[1] for p in points), 1e-09)
    plot_w, plot_h = _W - 10 - _PAD, _H - _PAD - 10
    body = [_axis(x_label, y_label, x_max, y_max, x_min=x_min)]
    for i, (name, pts) in enumerate(series.items()):
        colour = _COLOURS[i % len(_COLOURS)]
        coords = " ".join(
            f"{_PAD + (x - x_min) / (x_max - x_min) * plot_w:.1f},"
            f"{_H - _PAD - y / y_max * plot_h:.1f}"
            for x, y in pts
        )
        body.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{coords}"/>'
        )
        body.append(
            f'<text x="{_W - 14}" y="{20 + 13 * i}" font-size="11" text-anchor="end" '
            f'fill="{colour}">{escape(name)}</text>'
        )
    return _frame(title, "".join(body))
