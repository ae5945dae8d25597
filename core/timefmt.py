"""Times: UTC epoch seconds inside; ISO 8601 with an explicit offset for the ledger, short local
times and durations for people.

``to_iso(epoch, tz)`` shows an instant in a time zone (default Asia/Shanghai), seconds
resolution unless the instant has a fraction. ``parse_iso(text)`` reads it back and refuses a
time without an offset: a ledger line that says ``2026-11-03T09:12:00`` does not say where.
The two are exact inverses for every instant with microsecond resolution, so exporting,
importing and exporting again gives the same bytes.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"

# An offset at the end: Z, +08:00, -0500, +08
_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")


@lru_cache(maxsize=32)
def zone(name: str = DEFAULT_TZ) -> ZoneInfo:
    """A cached ZoneInfo (raises ZoneInfoNotFoundError for an unknown name)."""
    return ZoneInfo(name)


def to_iso(epoch: float, tz: str = DEFAULT_TZ) -> str:
    """``2026-11-03T09:12:00+08:00``: the instant in ``tz``, with microseconds only when present."""
    moment = datetime.fromtimestamp(epoch, zone(tz))
    return moment.isoformat(timespec="seconds" if moment.microsecond == 0 else "microseconds")


def parse_iso(text: str) -> float:
    """UTC epoch seconds of an ISO 8601 time that carries an offset; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"expected an ISO 8601 time string, got {type(text).__name__}")
    value = text.strip()
    if "T" not in value and " " not in value:
        raise ValueError(f"{text!r} is not a date and time (expected e.g. 2026-11-03T09:12:00+08:00)")
    tail = value[-6:]  # the ledger's own +08:00 is told without the regex (a month's faults: 130,000 times)
    if not (len(tail) == 6 and tail[0] in "+-" and tail[3] == ":" and tail[1:3].isdecimal() and tail[4:].isdecimal()) \
            and not _OFFSET.search(value, max(0, len(value) - 6)):  # an offset is at most 6 characters
        raise ValueError(f"{text!r} has no UTC offset (write e.g. 2026-11-03T09:12:00+08:00)")
    if value[-1] in "zZ":
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time (expected e.g. 2026-11-03T09:12:00+08:00)") from None
    if moment.tzinfo is None or moment.utcoffset() is None:  # pragma: no cover - guarded by the regex
        raise ValueError(f"{text!r} has no UTC offset")
    return moment.timestamp()


def local_date(epoch: float, tz: str = DEFAULT_TZ) -> date:
    """The calendar date of an instant in ``tz``."""
    return datetime.fromtimestamp(epoch, zone(tz)).date()


def day_start(day: date, tz: str = DEFAULT_TZ) -> float:
    """Epoch seconds of local midnight starting ``day`` in ``tz``."""
    return datetime.combine(day, time(0), zone(tz)).timestamp()


def day_starts(first: date, last: date, tz: str = DEFAULT_TZ) -> list[float]:
    """Local midnights from ``first`` to ``last`` inclusive."""
    days = (last - first).days
    return [day_start(first + timedelta(days=i), tz) for i in range(days + 1)]


def parse_when(text: str, tz: str = DEFAULT_TZ) -> float:
    """A time typed on the command line: ISO with offset, or a local ``YYYY-MM-DD[ HH:MM[:SS]]``."""
    value = text.strip()
    if _OFFSET.search(value) and ("T" in value or " " in value):
        return parse_iso(value)
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            moment = datetime.strptime(value, pattern)
        except ValueError:
            continue
        return moment.replace(tzinfo=zone(tz)).timestamp()
    raise ValueError(f"{text!r} is not a time (use 2026-11-03T09:12:00+08:00 or 2026-11-03 09:12)")


def to_iso_seconds(epoch: float | None, tz: str = DEFAULT_TZ) -> str | None:
    """ISO 8601 in ``tz`` with its offset, truncated to seconds; None stays None (fault bodies)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, zone(tz)).isoformat(timespec="seconds")


def short(epoch: float, tz: str = DEFAULT_TZ, now: float | None = None) -> str:
    """``09:12`` today, ``11-03 09:12`` on another day (of ``now``)."""
    moment = datetime.fromtimestamp(epoch, zone(tz))
    if now is not None and datetime.fromtimestamp(now, zone(tz)).date() == moment.date():
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
