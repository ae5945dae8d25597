"""Times for the ledger (ISO 8601 with offset) and for people (local, short)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def to_iso(epoch: float | None, zone: str) -> str | None:
    """ISO 8601 in ``zone`` with its offset, seconds precision; None stays None."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, ZoneInfo(zone)).isoformat(timespec="seconds")


def short(epoch: float, zone: str, now: float | None = None) -> str:
    """``09:12`` today, ``11-03 09:12`` on another day (of ``now``)."""
    tz = ZoneInfo(zone)
    moment = datetime.fromtimestamp(epoch, tz)
    if now is not None and datetime.fromtimestamp(now, tz).date() == moment.date():
        return moment.strftime("%H:%M")
    return moment.strftime("%m-%d %H:%M")


def duration(seconds: float, language: str = "zh") -> str:
    """``45 秒``, ``37 分钟``, ``2 小时 5 分钟``, ``1 天 3 小时`` (en: ``45 s``, ``37 min``, ``2 h 5 min``, ``1 d 3 h``)."""
    if seconds < 59.5:
        return f"{max(0, int(round(seconds)))} {'秒' if language == 'zh' else 's'}"
    minutes = max(0, int(round(seconds / 60)))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    units = ("天", "小时", "分钟") if language == "zh" else ("d", "h", "min")
    parts = []
    if days:
        parts.append(f"{days} {units[0]}")
    if hours:
        parts.append(f"{hours} {units[1]}")
    if (mins or not parts) and not days:
        parts.append(f"{mins} {units[2]}")
    return " ".join(parts)
