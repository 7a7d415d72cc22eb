"""Charts drawn on the server as SVG geometry: no CDN, no JavaScript, readable with scripts blocked.

A function here turns plain numbers into the coordinates a template draws; the template only writes
``<rect>`` and ``<text>`` elements with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ismp.apps.dashboard.values import Week

WIDTH = 640
HEIGHT = 200
BOTTOM = 24  # room for the week labels
LEFT = 36  # room for the scale


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    series: str  # "opened" or "completed"
    week: str


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    labels: tuple[tuple[float, str], ...]  # x, "MM-DD" of each week's Monday
    scale: tuple[tuple[float, int], ...]  # y, value of the grid lines
    baseline: float


def _nice(top: int) -> int:
    """The smallest 1, 2 or 5 × 10^n at or above ``top`` (at least 1), so the grid reads easily."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= top:
                return step * factor
        step *= 10


def trend_chart(weeks: Sequence[Week], width: int = WIDTH, height: int = HEIGHT) -> TrendChart:
    """Opened and completed (完了) work items per week as pairs of bars on one scale."""
    plot = height - BOTTOM
    top = _nice(max([w.opened for w in weeks] + [w.completed for w in weeks] + [1]))
    slot = (width - LEFT) / max(len(weeks), 1)
    bar = slot * 0.38
    bars: list[Bar] = []
    labels: list[tuple[float, str]] = []
    for i, week in enumerate(weeks):
        x = LEFT + i * slot + slot * 0.1
        label = week.start.strftime("%m-%d")
        for offset, series, value in ((0.0, "opened", week.opened), (bar, "completed", week.completed)):
            h = plot * value / top
            bars.append(Bar(round(x + offset, 1), round(plot - h, 1), round(bar, 1), round(h, 1), value, series, label))
        labels.append((round(x + bar, 1), label))
    scale = tuple((round(plot - plot * f, 1), int(top * f)) for f in (0.0, 0.5, 1.0))
    return TrendChart(width, height, tuple(bars), tuple(labels), scale, plot)
