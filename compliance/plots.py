"""The report's charts as PNG for the Word report, drawn by matplotlib with a CJK font found on the
system (Noto CJK / WenQuanYi / Source Han on Linux, 微软雅黑 / SimHei / 宋体 on Windows). When no such
font is installed the charts are drawn with English labels and a warning says which package to
install (Debian: fonts-noto-cjk)."""

from __future__ import annotations

import io
import logging
from functools import lru_cache
from typing import Any

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

log = logging.getLogger("yunwei.compliance")

CJK_FONTS = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "SimSun", "PingFang SC", "Hiragino Sans GB",
             "Noto Sans CJK JP", "Noto Sans CJK TC", "AR PL UMing CN")
NO_FONT = ("no CJK font found for the report's charts: labels are drawn in English (install one: Debian/Ubuntu"
           " apt-get install fonts-noto-cjk; Windows has Microsoft YaHei)")
BLUE, RED, ORANGE, GREY = "#2563eb", "#dc2626", "#ea580c", "#64748b"
DPI = 130


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first installed font family that has Chinese glyphs, or None (warned once)."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    log.warning(NO_FONT)
    return None


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer, metadata={"Software": None})
    return buffer.getvalue()


def _figure(width_cm: float, height_cm: float) -> tuple[Figure, Any, str | None]:
    font = cjk_font()
    # fixed margins: the constrained layout engine measured every label again (half the drawing time)
    fig = Figure(figsize=(width_cm / 2.54, height_cm / 2.54), dpi=DPI)
    fig.subplots_adjust(left=0.1, right=0.98, top=0.88, bottom=0.14)
    axes = fig.add_subplot()
    return fig, axes, font


def rate_png(title: str, days: list[dict[str, Any]], labels: dict[str, str]) -> bytes:
    """A group's daily online rate (line with markers, red where below) against its threshold
    (dashed red step line: important days have their own); the y-axis shows the interesting range."""
    fig, axes, font = _figure(16, 7)
    family = {"fontfamily": font} if font else {}
    x = list(range(len(days)))
    rates = [d["rate"] * 100 if d["rate"] is not None else None for d in days]
    thresholds = [d["threshold"] * 100 if d["threshold"] is not None else None for d in days]
    values = [v for v in rates + thresholds if v is not None]
    low = min(values, default=95.0)
    span = max(100.0 - low, 1.0)
    axes.set_ylim(max(0.0, low - span * 0.25), 100.0 + span * 0.05)
    axes.plot(x, [r if r is not None else float("nan") for r in rates], color=BLUE, marker="o", markersize=3,
              linewidth=1.6, label=labels["rate"])
    axes.step(x, [v if v is not None else float("nan") for v in thresholds], where="mid", color=RED, linestyle="--",
              linewidth=1.4, label=labels["threshold"])
    below = [(i, r) for i, (r, t) in enumerate(zip(rates, thresholds, strict=True))
             if r is not None and t is not None and r < t]
    if below:
        axes.scatter([i for i, _ in below], [r for _, r in below], color=RED, s=22, zorder=3)
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.1f}%" if span < 5 else f"{v:.0f}%"))
    axes.xaxis.set_major_locator(MaxNLocator(nbins=10, integer=True))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: days[int(v)]["date"][5:] if 0 <= int(v) < len(days) else ""))
    axes.set_title(title if font else labels.get("title_en", title), fontsize=11, **family)
    axes.set_ylabel(labels["rate"] if font else "online rate", fontsize=9, **family)
    axes.grid(axis="y", color="#e2e8f0", linewidth=0.8)
    axes.tick_params(labelsize=8)
    legend = axes.legend(fontsize=8, loc="lower left", frameon=False, prop={"family": font, "size": 8} if font else None)
    if not font:
        for text, english in zip(legend.get_texts(), ("daily rate", "target"), strict=False):
            text.set_text(english)
    return _png(fig)


def levels_png(title: str, rows: list[tuple[str, int, int]], labels: dict[str, str]) -> bytes:
    """Faults per level, all and overdue, side by side."""
    fig, axes, font = _figure(12, 6.5)
    family = {"fontfamily": font} if font else {}
    x = list(range(len(rows)))
    width = 0.36
    all_bars = axes.bar([i - width / 2 for i in x], [r[1] for r in rows], width, color=BLUE,
                        label=labels["faults"] if font else "faults")
    late_bars = axes.bar([i + width / 2 for i in x], [r[2] for r in rows], width, color=ORANGE,
                         label=labels["overdue"] if font else "overdue")
    axes.bar_label(all_bars, fontsize=8)
    axes.bar_label(late_bars, fontsize=8)
    axes.set_xticks(x, [r[0] if font else f"L{i + 1}" for i, r in enumerate(rows)], fontsize=9, **family)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(title if font else "Faults and overdue faults per level", fontsize=11, **family)
    axes.grid(axis="y", color="#e2e8f0", linewidth=0.8)
    axes.tick_params(labelsize=8)
    axes.legend(fontsize=8, frameon=False, prop={"family": font, "size": 8} if font else None)
    return _png(fig)
