"""Bar-chart geometry for server-rendered SVG (templates/reports/_columns.svg.html,
_bars.svg.html). Pure: numbers in, rectangles and tick marks out. No styles here: the
template gives classes, static/css/reports.css the colours (the CSP allows no inline style).
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    series: int
    label: str
    value: float | None


@dataclass(frozen=True)
class Tick:
    value: float
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    rects: list[Rect]
    ticks: list[Tick]
    labels: list[Tick]  # category labels with their centre
    series: list[str]
    plot: tuple[float, float, float, float]  # left, top, right, bottom
    empty: bool


def nice_max(value: float) -> float:
    """A round number at or above value (1, 2, 2.5, 5 times a power of ten)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _fmt(v: float) -> str:
    return f"{v:g}" if v == int(v) else f"{v:.1f}"


def columns(categories: list[str], series: dict[str, list[float | None]], *, width=640, height=260):
    """Vertical grouped columns: one group per category, one column per series."""
    left, top, right, bottom = 44.0, 12.0, width - 8.0, height - 34.0
    values = [v for vs in series.values() for v in vs if v is not None]
    top_value = nice_max(max(values, default=0))
    group = (right - left) / max(len(categories), 1)
    inner = group * 0.8 / max(len(series), 1)
    rects = []
    for s, (name, vs) in enumerate(series.items()):
        for c, value in enumerate(vs):
            if value is None:
                continue
            h = (bottom - top) * value / top_value
            x = left + group * c + group * 0.1 + inner * s
            rects.append(
                Rect(
                    round(x, 1),
                    round(bottom - h, 1),
                    round(inner, 1),
                    round(h, 1),
                    s,
                    f"{categories[c]}, {name}",
                    value,
                )
            )
    ticks = [
        Tick(top_value * i / 4, round(bottom - (bottom - top) * i / 4, 1), _fmt(top_value * i / 4))
        for i in range(5)
    ]
    every = max(1, math.ceil(len(categories) / 12))
    labels = [
        Tick(i, round(left + group * (i + 0.5), 1), label)
        for i, label in enumerate(categories)
        if i % every == 0
    ]
    return Chart(
        width, height, rects, ticks, labels, list(series), (left, top, right, bottom), not values
    )


def bars(items: list[tuple[str, float]], *, width=640, row=22):
    """Horizontal bars, one per item (label, value), largest scale rounded up."""
    left, right, top = 120.0, width - 40.0, 8.0
    height = int(top + row * max(len(items), 1) + 26)
    bottom = height - 26.0
    top_value = max(4, nice_max(max((v for _, v in items), default=0)))  # whole-number ticks
    rects = [
        Rect(
            left,
            round(top + row * i + 3, 1),
            round((right - left) * v / top_value, 1),
            row - 6,
            0,
            label,
            v,
        )
        for i, (label, v) in enumerate(items)
    ]
    ticks = [
        Tick(top_value * i / 4, round(left + (right - left) * i / 4, 1), _fmt(top_value * i / 4))
        for i in range(5)
    ]
    labels = [
        Tick(i, round(top + row * i + row / 2 + 4, 1), label) for i, (label, _) in enumerate(items)
    ]
    return Chart(
        width, height, rects, ticks, labels, ["value"], (left, top, right, bottom), not items
    )
