"""Charts for the HTML report: a figure is a list of shapes in pixel coordinates, rendered as
inline SVG (text in the browser's own fonts, so Chinese titles need nothing installed). The Word
report's charts are PNG drawn by matplotlib (``compliance.plots``).

- ``rate_chart``: a group's daily online rate against its threshold (a step line: important
  days have their own);
- ``level_chart``: faults per level, all and overdue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

BLUE = (37, 99, 235)
RED = (220, 38, 38)
GREY = (148, 163, 184)
LIGHT = (226, 232, 240)
DARK = (30, 41, 59)
ORANGE = (234, 88, 12)
GREEN = (22, 163, 74)
Color = tuple[int, int, int]


@dataclass
class Line:
    points: list[tuple[float, float]]
    color: Color
    width: float = 2.0
    dash: bool = False


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    color: Color


@dataclass
class Dot:
    x: float
    y: float
    r: float
    color: Color


@dataclass
class Text:
    x: float
    y: float
    text: str
    size: float = 11.0
    anchor: str = "middle"  # start | middle | end
    color: Color = DARK


@dataclass
class Figure:
    width: int
    height: int
    shapes: list[Any] = field(default_factory=list)
    title: str = ""
    kind: str = ""


LEFT, RIGHT, TOP, BOTTOM = 58.0, 18.0, 34.0, 44.0


def _nice_floor(value: float, step: float) -> float:
    return math.floor(value / step + 1e-9) * step


def rate_chart(title: str, days: list[dict[str, Any]], width: int = 720, height: int = 260) -> Figure:
    """Daily rates (``{"date", "rate", "threshold"}``) as a line with dots, the threshold dashed red."""
    fig = Figure(width, height, title=title, kind="rate")
    values = [d["rate"] for d in days if d["rate"] is not None]
    thresholds = [d["threshold"] for d in days if d["threshold"] is not None]
    low = min([*values, *thresholds, 1.0])
    step = 0.01 if low >= 0.95 else 0.05 if low >= 0.75 else 0.1
    y_min = max(0.0, _nice_floor(low - step / 2, step))
    y_max = 1.0
    x0, x1 = LEFT, width - RIGHT
    y0, y1 = height - BOTTOM, TOP
    n = max(len(days), 1)

    def px(index: float) -> float:
        return x0 + (x1 - x0) * (index + 0.5) / n

    def py(value: float) -> float:
        return y0 - (y0 - y1) * (value - y_min) / (y_max - y_min or 1)

    fig.shapes.append(Text(width / 2, 20, title, 13, "middle", DARK))
    count = int(round((y_max - y_min) / step))
    stride = max(1, math.ceil(count / 6))
    for i in range(0, count + 1, stride):
        value = y_min + step * i
        y = py(value)
        fig.shapes.append(Line([(x0, y), (x1, y)], LIGHT, 1))
        label = f"{value * 100:.0f}%"
        fig.shapes.append(Text(x0 - 6, y + 4, label, 10, "end", GREY))
    fig.shapes.append(Line([(x0, y0), (x1, y0)], GREY, 1))
    every = max(1, math.ceil(n / 10))
    for index, day in enumerate(days):
        if index % every == 0 or index == n - 1:
            label = day["date"][5:]
            fig.shapes.append(Text(px(index), y0 + 16, label, 10, "middle", GREY))
    # threshold as a step line (important days have their own)
    segment: list[tuple[float, float]] = []
    for index, day in enumerate(days):
        threshold = day["threshold"]
        if threshold is None:
            if segment:
                fig.shapes.append(Line(segment, RED, 1.5, dash=True))
            segment = []
            continue
        left, right, y = px(index - 0.5), px(index + 0.5), py(threshold)
        if not segment or segment[-1][1] != y:
            segment.append((left, y))
        segment.append((right, y))
    if segment:
        fig.shapes.append(Line(segment, RED, 1.5, dash=True))
    # the rate
    run: list[tuple[float, float]] = []
    for index, day in enumerate(days):
        if day["rate"] is None:
            if len(run) > 1:
                fig.shapes.append(Line(run, BLUE, 2))
            run = []
            continue
        point = (px(index), py(max(day["rate"], y_min)))
        run.append(point)
        below = day["threshold"] is not None and day["rate"] < day["threshold"]
        fig.shapes.append(Dot(point[0], point[1], 3.2 if below else 2.2, RED if below else BLUE))
    if len(run) > 1:
        fig.shapes.append(Line(run, BLUE, 2))
    return fig


def level_chart(title: str, levels: list[tuple[str, int, int]], width: int = 480, height: int = 240) -> Figure:
    """Bars per fault level: ``(label, faults, overdue)``."""
    fig = Figure(width, height, title=title, kind="levels")
    top = max([1, *(count for _, count, _ in levels)])
    top = int(math.ceil(top / 4.0) * 4) if top > 4 else top
    x0, x1 = LEFT, width - RIGHT
    y0, y1 = height - BOTTOM, TOP
    fig.shapes.append(Text(width / 2, 20, title, 13, "middle", DARK))
    ticks = min(top, 4)
    for i in range(ticks + 1):
        value = top * i / ticks
        y = y0 - (y0 - y1) * value / top
        fig.shapes.append(Line([(x0, y), (x1, y)], LIGHT, 1))
        fig.shapes.append(Text(x0 - 6, y + 4, f"{value:g}", 10, "end", GREY))
    fig.shapes.append(Line([(x0, y0), (x1, y0)], GREY, 1))
    slot = (x1 - x0) / max(len(levels), 1)
    bar = slot * 0.3
    for index, (label, count, overdue) in enumerate(levels):
        centre = x0 + slot * (index + 0.5)
        for offset, value, color in ((-bar / 2 - 2, count, BLUE), (bar / 2 + 2, overdue, ORANGE)):
            h = (y0 - y1) * value / top
            fig.shapes.append(Rect(centre + offset - bar / 2, y0 - h, bar, h, color))
            if value:
                fig.shapes.append(Text(centre + offset, y0 - h - 4, str(value), 10, "middle", DARK))
        fig.shapes.append(Text(centre, y0 + 16, label, 11, "middle", DARK))
    return fig


# -- SVG --------------------------------------------------------------------------------------


def _rgb(color: Color) -> str:
    return f"rgb({color[0]},{color[1]},{color[2]})"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def to_svg(fig: Figure, legend: list[tuple[str, Color, bool]] | None = None) -> str:
    """An inline ``<svg>`` element (no external references)."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{fig.kind}" role="img" '
             f'aria-label="{_escape(fig.title)}" width="{fig.width}" height="{fig.height}" '
             f'viewBox="0 0 {fig.width} {fig.height}">',
             f'<rect x="0" y="0" width="{fig.width}" height="{fig.height}" fill="white"/>']
    for shape in fig.shapes:
        if isinstance(shape, Line):
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in shape.points)
            dash = ' stroke-dasharray="6 4"' if shape.dash else ""
            parts.append(f'<polyline points="{points}" fill="none" stroke="{_rgb(shape.color)}" '
                         f'stroke-width="{shape.width}"{dash}/>')
        elif isinstance(shape, Rect):
            parts.append(f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" width="{shape.w:.1f}" height="{shape.h:.1f}" '
                         f'fill="{_rgb(shape.color)}"/>')
        elif isinstance(shape, Dot):
            parts.append(f'<circle cx="{shape.x:.1f}" cy="{shape.y:.1f}" r="{shape.r}" fill="{_rgb(shape.color)}"/>')
        elif isinstance(shape, Text):
            parts.append(f'<text x="{shape.x:.1f}" y="{shape.y:.1f}" font-size="{shape.size}" text-anchor="{shape.anchor}" '
                         f'fill="{_rgb(shape.color)}">{_escape(shape.text)}</text>')
    x = LEFT
    for label, color, dashed in legend or []:
        y = fig.height - 10
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        parts.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 22}" y2="{y - 4}" stroke="{_rgb(color)}" stroke-width="3"{dash}/>')
        parts.append(f'<text x="{x + 28}" y="{y}" font-size="11" fill="{_rgb(DARK)}">{_escape(label)}</text>')
        x += 40 + 12 * len(label)
    parts.append("</svg>")
    return "".join(parts)
