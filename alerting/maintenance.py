"""Maintenance windows: one-off, weekly, or cron (+ duration), per device/group/system/unit.

``MaintenanceCalendar.active(now)`` lists the occurrences in force and the devices they cover.
A fault that starts inside one is recorded with ``waived: "maintenance"`` and not alerted; a
device still down when the window ends gets an ordinary fault then (see engine).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from alerting.config import MaintenanceWindow
    from inventory.config import Inventory

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday (7 is folded into 0)
    days_any: bool
    weekdays_any: bool

    def matches(self, moment: datetime) -> bool:
        if moment.minute not in self.minutes or moment.hour not in self.hours or moment.month not in self.months:
            return False
        day_ok = moment.day in self.days
        weekday_ok = (moment.isoweekday() % 7) in self.weekdays
        if self.days_any or self.weekdays_any:  # classic cron: both restricted means either
            return day_ok and weekday_ok
        return day_ok or weekday_ok


def parse_cron(text: str) -> Cron:
    """Parse ``minute hour day-of-month month day-of-week`` (``*``, lists, ranges, ``/step``)."""
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(f"cron {text!r}: expected 5 fields (minute hour day-of-month month day-of-week)")
    values: list[frozenset[int]] = []
    for part, (name, low, high) in zip(parts, _FIELDS, strict=True):
        found: set[int] = set()
        for item in part.split(","):
            body, _, step_text = item.partition("/")
            try:
                step = int(step_text) if step_text else 1
                if body == "*":
                    start, end = low, high
                elif "-" in body:
                    start_text, end_text = body.split("-", 1)
                    start, end = int(start_text), int(end_text)
                else:
                    start = int(body)
                    end = high if step_text else start
            except ValueError:
                raise ValueError(f"cron {text!r}: {name} field {part!r} is not a number, range or list") from None
            if step < 1 or not (low <= start <= high and low <= end <= high) or end < start:
                raise ValueError(f"cron {text!r}: {name} field {part!r} outside {low}..{high}")
            found.update(range(start, end + 1, step))
        values.append(frozenset(found))
    weekdays = frozenset(v % 7 for v in values[4])
    return Cron(values[0], values[1], values[2], values[3], weekdays, parts[2] == "*", parts[4] == "*")


@dataclass(frozen=True)
class Occurrence:
    """One window in force: which window, from when to when (epoch seconds)."""

    name: str
    start: float
    end: float
    devices: frozenset[str]

    @property
    def uid(self) -> str:
        digest = hashlib.sha1(f"{self.name}|{self.start:.0f}".encode()).hexdigest()[:12]
        return f"record:maintenance:{digest}"


def _clock(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def window_span(window: MaintenanceWindow, now: float, zone: ZoneInfo) -> tuple[float, float] | None:
    """(start, end) of the occurrence of ``window`` in force at ``now``, if any."""
    if window.start is not None and window.end is not None:
        start = window.start if window.start.tzinfo else window.start.replace(tzinfo=zone)
        end = window.end if window.end.tzinfo else window.end.replace(tzinfo=zone)
        return (start.timestamp(), end.timestamp()) if start.timestamp() <= now < end.timestamp() else None
    local = datetime.fromtimestamp(now, zone)
    if window.weekly is not None:
        weekly = window.weekly
        begin, finish = _clock(weekly.start), _clock(weekly.end)
        for back in (1, 0):
            day = local.date() - timedelta(days=back)
            if day.weekday() not in weekly.days:
                continue
            start_dt = datetime.combine(day, begin, zone)
            end_dt = datetime.combine(day, finish, zone)
            if end_dt <= start_dt:
                end_dt += timedelta(days=1)
            if start_dt.timestamp() <= now < end_dt.timestamp():
                return start_dt.timestamp(), end_dt.timestamp()
        return None
    if window.cron is not None and window.duration_minutes is not None:
        cron = parse_cron(window.cron)
        minute = local.replace(second=0, microsecond=0)
        earliest = now - window.duration_minutes * 60
        while minute.timestamp() > earliest:
            if minute.hour in cron.hours and cron.matches(minute):
                return minute.timestamp(), minute.timestamp() + window.duration_minutes * 60
            minute -= timedelta(minutes=1)
        return None
    return None


class MaintenanceCalendar:
    """The configured windows resolved against the inventory."""

    def __init__(self, windows: list[MaintenanceWindow], inventory: Inventory) -> None:
        self.windows = list(windows)
        self.zone = ZoneInfo(inventory.agent.timezone)
        self.targets: list[frozenset[str]] = [self._devices(w, inventory) for w in self.windows]

    @staticmethod
    def _devices(window: MaintenanceWindow, inventory: Inventory) -> frozenset[str]:
        found = {d for d in window.devices if d in inventory.devices}
        for device in inventory.devices.values():
            if (
                (device.group and device.group in window.groups)
                or (device.system and device.system in window.systems)
                or (device.unit and device.unit in window.units)
            ):
                found.add(device.id)
        return frozenset(found)

    def active(self, now: float) -> list[Occurrence]:
        found = []
        for window, devices in zip(self.windows, self.targets, strict=True):
            span = window_span(window, now, self.zone)
            if span is not None:
                found.append(Occurrence(window.name, span[0], span[1], devices))
        return found

    def covering(self, now: float) -> dict[str, Occurrence]:
        """Device id → the occurrence that covers it now (the one ending last)."""
        result: dict[str, Occurrence] = {}
        for occurrence in self.active(now):
            for device in occurrence.devices:
                current = result.get(device)
                if current is None or occurrence.end > current.end:
                    result[device] = occurrence
        return result
