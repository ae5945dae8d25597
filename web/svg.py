"""Server-side SVG charts (no JavaScript library): a time series as a polyline with its axes."""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 720, 200, 70, 24, 10
# presentation attributes, not CSS: an SVG shown through <img> does not see the page's style sheet
TEXT = 'font-size="11" fill="#636c76" font-family="sans-serif"'


def series_chart(points: list[tuple[float, float | None]], start: float, end: float, unit: str, zone: ZoneInfo,
                 title: str = "", limit: float | None = None, second: list[tuple[float, float | None]] | None = None,
                 failures: list[float] | None = None) -> str:
    """``points`` are (epoch, value); None, or a time in ``failures``, is a failed sample (or a
    bucket with one), drawn as a red tick on the axis.
    ``limit`` (the contracted bandwidth, the required runtime) is a dashed red line; ``second``
    another series (a line's upstream beside its downstream), in orange."""
    second = second or []
    values = [v for _, v in [*points, *second] if v is not None] + ([limit] if limit is not None else [])
    top = max(values) * 1.15 if values else 1.0
    top = top or 1.0
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    span = max(end - start, 1.0)

    def x(t: float) -> float:
        return PAD_LEFT + (t - start) / span * plot_w

    def y(v: float) -> float:
        return PAD_TOP + plot_h - v / top * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' aria-label="{escape(title)}">',
        f'<rect x="{PAD_LEFT}" y="{PAD_TOP}" width="{plot_w}" height="{plot_h}" fill="#fafbfc" stroke="#d8dee4"/>',
    ]
    for fraction in (0.0, 0.5, 1.0):
        value = top * fraction
        parts.append(f'<line x1="{PAD_LEFT}" x2="{PAD_LEFT + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#e1e4e8"/>')
        parts.append(f'<text x="{PAD_LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end" {TEXT}>{value:.1f} {escape(unit)}</text>')
    for fraction in (0.0, 0.5, 1.0):
        moment = start + span * fraction
        label = datetime.fromtimestamp(moment, zone).strftime("%m-%d %H:%M")
        anchor = "start" if fraction == 0 else ("end" if fraction == 1 else "middle")
        parts.append(f'<text x="{x(moment):.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}" {TEXT}>{label}</text>')
    run: list[str] = []
    for t, v in points:
        if v is None:
            if len(run) > 1:
                parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="#0b5cad" stroke-width="1.5"/>')
            run = []
            parts.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{PAD_TOP + plot_h}" y2="{PAD_TOP + plot_h - 8}" stroke="#c62828" stroke-width="2"/>')
        else:
            run.append(f"{x(t):.1f},{y(v):.1f}")
    for t in failures or []:
        parts.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{PAD_TOP + plot_h}" y2="{PAD_TOP + plot_h - 8}" stroke="#c62828" stroke-width="2"/>')
    if len(run) > 1:
        parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="#0b5cad" stroke-width="1.5"/>')
    elif len(run) == 1:
        cx, cy = run[0].split(",")
        parts.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="#0b5cad"/>')
    lines = [f"{x(t):.1f},{y(v):.1f}" for t, v in second if v is not None]
    if len(lines) > 1:
        parts.append(f'<polyline class="second" points="{" ".join(lines)}" fill="none" stroke="#d9822b" stroke-width="1.5"/>')
    if limit is not None:
        parts.append(f'<line class="limit" x1="{PAD_LEFT}" x2="{PAD_LEFT + plot_w}" y1="{y(limit):.1f}" y2="{y(limit):.1f}"'
                     f' stroke="#c62828" stroke-dasharray="6 4"/>')
    if not points:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" {TEXT}>—</text>')
    parts.append("</svg>")
    return "".join(parts)


def downsample(points: list[tuple[float, float | None]], buckets: int = 360) -> list[tuple[float, float | None]]:
    """At most ``buckets`` points: the worst (largest) value of each time bucket; a failure wins."""
    if len(points) <= buckets:
        return points
    start, end = points[0][0], points[-1][0]
    width = (end - start) / buckets or 1.0
    chosen: dict[int, tuple[float, float | None]] = {}
    for t, v in points:
        key = min(int((t - start) / width), buckets - 1)
        current = chosen.get(key)
        if current is None or v is None or (current[1] is not None and v > current[1]):
            chosen[key] = (t, v)
    return [chosen[k] for k in sorted(chosen)]


STATE_COLOURS = {"up": "#2e9e4f", "down": "#c62828", "unknown": "#b0b7bf", "maintenance": "#5c6bc0"}


def timeline(segments: list[tuple[float, float, str]], start: float, end: float, zone: ZoneInfo, title: str = "") -> str:
    """A state bar from ``start`` to ``end``: one coloured span per (from, to, state)."""
    width, height, left = WIDTH, 46, 8
    plot_w = width - 2 * left
    span = max(end - start, 1.0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart timeline" viewBox="0 0 {width} {height}" role="img"'
             f' aria-label="{escape(title)}">',
             f'<rect x="{left}" y="4" width="{plot_w}" height="22" fill="{STATE_COLOURS["unknown"]}"/>']
    for begin, finish, state in segments:
        x0 = left + (max(begin, start) - start) / span * plot_w
        x1 = left + (min(finish, end) - start) / span * plot_w
        if x1 > x0:
            parts.append(f'<rect x="{x0:.2f}" y="4" width="{max(x1 - x0, 0.5):.2f}" height="22" '
                         f'fill="{STATE_COLOURS.get(state, STATE_COLOURS["unknown"])}"><title>{escape(state)}</title></rect>')
    for fraction in (0.0, 0.5, 1.0):
        moment = start + span * fraction
        anchor = "start" if fraction == 0 else ("end" if fraction == 1 else "middle")
        label = datetime.fromtimestamp(moment, zone).strftime("%m-%d %H:%M")
        parts.append(f'<text x="{left + plot_w * fraction:.1f}" y="{height - 4}" text-anchor="{anchor}" {TEXT}>{label}</text>')
    parts.append("</svg>")
    return "".join(parts)
