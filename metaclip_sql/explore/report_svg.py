"""Charts as inline SVG for the report: log-log lines, dots and bars, with reference lines.

Hand-written rather than through matplotlib, so the report needs no plotting library, draws
the same on every machine, and stays small: a chart is a few hundred elements whatever the
pool (the caller caps the points). Every label is escaped; the markup loads nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


@dataclass(frozen=True)
class Series:
    """Points to draw: `line` (a polyline), `dots` or `bars` (x ranges (lo, hi) with a height)."""

    label: str
    points: Sequence[tuple[float, float]] | Sequence[tuple[float, float, float]]
    color: str = PALETTE[0]
    kind: str = "line"


@dataclass(frozen=True)
class RefLine:
    """A dashed line across the chart at `value` on axis `x` (vertical) or `y` (horizontal)."""

    axis: str
    value: float
    label: str
    color: str = PALETTE[3]


def loglog_chart(
    series: Sequence[Series],
    refs: Sequence[RefLine] = (),
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    width: int = 540,
    height: int = 330,
) -> str:
    """One chart with log axes on both sides; non-positive values are left out."""
    left, right, top, bottom = 62, 16, 30, 46
    xs, ys = _values(series, refs)
    if not xs or not ys:
        return _empty(title, width, height)
    x0, x1 = _decades(xs)
    y0, y1 = _decades(ys)
    pw, ph = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + (math.log10(x) - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return top + ph - (math.log10(y) - y0) / (y1 - y0) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        'font-family="system-ui, sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="18" font-size="13" font-weight="600">{escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#999"/>',
    ]
    for d in range(x0, x1 + 1):
        x = sx(10**d)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#eee"/>')
        out.append(
            f'<text x="{x:.1f}" y="{top + ph + 15}" text-anchor="middle">{_human(10**d)}</text>'
        )
    for d in range(y0, y1 + 1):
        y = sy(10**d)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_human(10**d)}</text>')
    out.append(
        f'<text x="{left + pw / 2:.1f}" y="{height - 8}" text-anchor="middle">'
        f"{escape(xlabel)}</text>"
    )
    out.append(
        f'<text transform="translate(14 {top + ph / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{escape(ylabel)}</text>'
    )
    for s in series:
        out += _draw(s, sx, sy, top + ph)
    for r in refs:
        if r.value <= 0:
            continue
        if r.axis == "x":
            x = sx(r.value)
            if left <= x <= left + pw:
                out.append(
                    f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" '
                    f'stroke="{r.color}" stroke-dasharray="5 3" stroke-width="1.5"/>'
                )
        else:
            y = sy(r.value)
            if top <= y <= top + ph:
                out.append(
                    f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" '
                    f'stroke="{r.color}" stroke-dasharray="5 3" stroke-width="1.5"/>'
                )
    out += _legend([(s.label, s.color, s.kind) for s in series if s.label], refs, left + pw, top)
    out.append("</svg>")
    return "".join(out)


def _values(series: Sequence[Series], refs: Sequence[RefLine]) -> tuple[list[float], list[float]]:
    xs: list[float] = []
    ys: list[float] = []
    for s in series:
        for p in s.points:
            if s.kind == "bars":
                xs += [v for v in (p[0], p[1]) if v > 0]
                ys += [p[2]] if p[2] > 0 else []
            else:
                if p[0] > 0 and p[1] > 0:
                    xs.append(p[0])
                    ys.append(p[1])
    for r in refs:
        if r.value > 0:
            (xs if r.axis == "x" else ys).append(r.value)
    return xs, ys


def _decades(values: list[float]) -> tuple[int, int]:
    lo = math.floor(math.log10(min(values)))
    hi = math.ceil(math.log10(max(values)))
    return lo, max(hi, lo + 1)


def _draw(s: Series, sx, sy, baseline: float) -> list[str]:
    color = s.color
    if s.kind == "bars":
        out = []
        for lo, hi, n in s.points:
            if lo <= 0 or hi <= 0 or n <= 0:
                continue
            x, w, y = sx(lo), max(sx(hi) - sx(lo) - 1, 1), sy(n)
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{baseline - y:.1f}" '
                f'fill="{color}" fill-opacity="0.6"/>'
            )
        return out
    points = [(x, y) for x, y in s.points if x > 0 and y > 0]
    if s.kind == "dots":
        return [
            f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{color}" fill-opacity="0.7"/>'
            for x, y in points
        ]
    path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points)
    return [f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>']


def _legend(
    items: list[tuple[str, str, str]], refs: Sequence[RefLine], right: float, top: float
) -> list[str]:
    rows = [(label, color, kind) for label, color, kind in items]
    rows += [(r.label, r.color, "ref") for r in refs if r.label and r.value > 0]
    if not rows:
        return []
    width = 14 + 6.2 * max(len(r[0]) for r in rows) + 24
    x = right - width - 6
    out = [
        f'<rect x="{x:.1f}" y="{top + 6}" width="{width:.1f}" height="{8 + 15 * len(rows)}" '
        'fill="#fff" fill-opacity="0.85" stroke="#ccc"/>'
    ]
    for i, (label, color, kind) in enumerate(rows):
        y = top + 18 + 15 * i
        if kind == "dots":
            mark = f'<circle cx="{x + 14:.1f}" cy="{y - 4}" r="3" fill="{color}"/>'
        elif kind == "bars":
            mark = f'<rect x="{x + 8:.1f}" y="{y - 9}" width="12" height="9" fill="{color}"/>'
        else:
            dash = ' stroke-dasharray="5 3"' if kind == "ref" else ""
            mark = (
                f'<line x1="{x + 6:.1f}" y1="{y - 4}" x2="{x + 22:.1f}" y2="{y - 4}" '
                f'stroke="{color}" stroke-width="2"{dash}/>'
            )
        out.append(mark + f'<text x="{x + 28:.1f}" y="{y}">{escape(label)}</text>')
    return out


def _empty(title: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" font-family="system-ui, sans-serif"><title>{escape(title)}</title>'
        f'<text x="20" y="30">{escape(title)}: nothing to draw</text></svg>'
    )


def _human(value: float) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:g}{unit}"
    return f"{value:g}"
