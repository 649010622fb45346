"""Charts drawn on the server as inline SVG (no JavaScript, no CDN): stacked bars, lines against
a reference, and percentages. Pure functions of their data; every label is escaped.

Each mark carries a `<title>`, which browsers show as a tooltip, so exact figures are one
hover away; the page also gives them as a table and `/api/metrics` as JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = (
    "#2f6fb0",
    "#e08a2e",
    "#3a9a5b",
    "#b5473a",
    "#7a5aa6",
    "#8c6d3f",
    "#c2527f",
    "#5f6f7f",
    "#2a9d9d",
    "#9a9a2a",
)


@dataclass(frozen=True)
class _Frame:
    """The plotting area inside the SVG and the value scale."""

    width: int
    height: int
    top: int
    top_value: float
    left: int = 48
    right: int = 12
    bottom: int = 34

    @property
    def plot_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom

    def y(self, value: float) -> float:
        share = value / self.top_value if self.top_value else 0.0
        return self.top + self.plot_height * (1 - min(max(share, 0.0), 1.0))

    def slot(self, index: int, count: int) -> tuple[float, float]:
        """(x of the slot's left edge, slot width) of the index-th of `count` slots."""
        width = self.plot_width / max(count, 1)
        return self.left + index * width, width


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k not below `value` (1 for nothing)."""
    if value <= 0:
        return 1.0
    magnitude = math.pow(10, math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude + 1e-9:
            return float(step * magnitude)
    return 10.0 * magnitude  # pragma: no cover - the loop always returns


def scale_top(highest: float, ticks: int = 4) -> float:
    """The top of a value axis with `ticks` round steps (0, 10, 20, 30, 40) over `highest`."""
    return nice_ceiling(highest / ticks) * ticks


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _open(frame: _Frame, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {frame.width} '
        f'{frame.height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]


def _axes(frame: _Frame, labels: Sequence[str], unit: str) -> list[str]:
    parts: list[str] = []
    for i in range(5):
        value = frame.top_value * i / 4
        y = frame.y(value)
        parts.append(
            f'<line class="grid" x1="{frame.left}" y1="{y:.1f}" '
            f'x2="{frame.width - frame.right}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{frame.left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#555">{escape(_fmt(value) + unit)}</text>'
        )
    every = max(1, math.ceil(len(labels) / 8))
    for index, label in enumerate(labels):
        if (len(labels) - 1 - index) % every:  # evenly spaced, ending with the last label
            continue
        x, width = frame.slot(index, len(labels))
        parts.append(
            f'<text x="{x + width / 2:.1f}" y="{frame.height - frame.bottom + 16}" '
            f'text-anchor="middle" font-size="11" fill="#555">{escape(label)}</text>'
        )
    return parts


def _legend(names: Sequence[str], colours: Mapping[str, str], frame: _Frame) -> list[str]:
    parts: list[str] = []
    x = float(frame.left)
    for name in names:
        parts.append(
            f'<rect x="{x:.1f}" y="6" width="10" height="10" fill="{colours[name]}"/>'
            f'<text x="{x + 14:.1f}" y="15" font-size="11" fill="#333">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    return parts


def colours_for(names: Sequence[str]) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def stacked_bars(
    labels: Sequence[str],
    series: Mapping[str, Sequence[int]],
    *,
    title: str,
    width: int = 760,
    height: int = 260,
) -> str:
    """One bar per label, stacked by series (e.g. tickets per day by category)."""
    names = list(series)
    totals = [sum(series[name][i] for name in names) for i in range(len(labels))]
    frame = _Frame(width, height, top=26, top_value=max(4.0, scale_top(max(totals, default=0))))
    colours = colours_for(names)
    parts = _open(frame, title) + _axes(frame, labels, "") + _legend(names, colours, frame)
    for index, label in enumerate(labels):
        x, slot = frame.slot(index, len(labels))
        base = 0.0
        for name in names:
            count = series[name][index]
            if not count:
                continue
            y_top, y_bottom = frame.y(base + count), frame.y(base)
            parts.append(
                f'<rect x="{x + slot * 0.15:.1f}" y="{y_top:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{y_bottom - y_top:.1f}" fill="{colours[name]}">'
                f"<title>{escape(f'{label} {name}: {count}')}</title></rect>"
            )
            base += count
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    labels: Sequence[str],
    lines: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    unit: str,
    reference: tuple[str, float] | None = None,
    width: int = 760,
    height: int = 260,
) -> str:
    """One line per series (gaps where a value is None), and a dashed reference line (e.g. the
    response target)."""
    values = [v for line in lines.values() for v in line if v is not None]
    highest = max([*values, reference[1] if reference else 0.0], default=0.0)
    frame = _Frame(width, height, top=26, top_value=scale_top(highest * 1.05))
    names = list(lines)
    colours = colours_for(names)
    parts = _open(frame, title) + _axes(frame, labels, unit) + _legend(names, colours, frame)
    if reference is not None:
        name, level = reference
        y = frame.y(level)
        parts.append(
            f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.width - frame.right}" '
            f'y2="{y:.1f}" stroke="#b5473a" stroke-dasharray="6 4"/>'
            f'<text x="{frame.width - frame.right - 2}" y="{y - 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="#b5473a">{escape(f"{name} {_fmt(level)}{unit}")}</text>'
        )
    for name, line in lines.items():
        run: list[str] = []
        for index, value in enumerate([*line, None]):
            if value is None:
                if len(run) > 1:
                    parts.append(
                        f'<polyline fill="none" stroke="{colours[name]}" stroke-width="2" '
                        f'points="{" ".join(run)}"/>'
                    )
                run = []
                continue
            x, slot = frame.slot(index, len(labels))
            point = f"{x + slot / 2:.1f},{frame.y(value):.1f}"
            run.append(point)
            cx, cy = point.split(",")
            parts.append(
                f'<circle cx="{cx}" cy="{cy}" r="3" fill="{colours[name]}">'
                f"<title>{escape(f'{labels[index]} {name}: {_fmt(value)}{unit}')}</title>"
                "</circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def percent_bars(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    goal: float | None = None,
    width: int = 760,
    height: int = 220,
) -> str:
    """A bar per label from 0 to 100 % (none where there is nothing to measure); bars below
    `goal` are drawn in red."""
    frame = _Frame(width, height, top=14, top_value=100.0)
    parts = _open(frame, title) + _axes(frame, labels, "%")
    if goal is not None:
        y = frame.y(goal)
        parts.append(
            f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.width - frame.right}" '
            f'y2="{y:.1f}" stroke="#555" stroke-dasharray="4 4"/>'
        )
    for index, value in enumerate(values):
        if value is None:
            continue
        x, slot = frame.slot(index, len(labels))
        colour = "#b5473a" if goal is not None and value < goal else "#3a9a5b"
        y = frame.y(value)
        parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{frame.y(0) - y:.1f}" fill="{colour}">'
            f"<title>{escape(f'{labels[index]}: {value:.0f}%')}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)
