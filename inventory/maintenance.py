"""Maintenance windows (计划维护): one-off, weekly, or cron (+ duration), per device/group/system/unit.

Windows are part of the inventory, not of alerting: a device inside one is in MAINTENANCE in
the fleet state (``status``, ``/metrics``, the console), its window is filed in the ledger so the
monthly report leaves it out, and alerting records its faults as waived, whether or not
alerting is enabled. Cron expressions are APScheduler's ``CronTrigger`` (the agent's one
scheduler library) read in crontab's dialect: day of week 0 or 7 = Sunday.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from pydantic import BeforeValidator, Field, field_validator, model_validator

from inventory.models import Strict


def listify(value: Any) -> Any:
    """Accept a scalar where a list is expected (``groups: cams`` means ``[cams]``)."""
    if value is None:
        return []
    if isinstance(value, str | int | float):
        return [value]
    return value


StrList = Annotated[list[str], BeforeValidator(listify)]

_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_CRON_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# the most cron starts a window's duration is searched through for the one in force
_MAX_FIRES = 2000


def _weekday(value: Any) -> int:
    if isinstance(value, int) and 1 <= value <= 7:
        return value - 1
    text = str(value).strip().lower()[:3]
    if text in _WEEKDAYS:
        return _WEEKDAYS[text]
    raise ValueError(f"{value!r} is not a weekday (mon..sun or 1..7, 1 = Monday)")


def _crontab_weekdays(field: str) -> str:
    """Crontab's day-of-week field (0-7, 0 and 7 = Sunday) as APScheduler day names."""
    if field == "*" or not re.search(r"\d", field):
        return field
    days: set[int] = set()
    for item in field.split(","):
        body, _, step_text = item.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if body == "*":
                first, last = 0, 6
            elif "-" in body:
                first_text, last_text = body.split("-", 1)
                first, last = int(first_text), int(last_text)
            else:
                first = int(body)
                last = 7 if step_text else first
        except ValueError:
            raise ValueError(f"day of week field {field!r} is not a number, range or list") from None
        if step < 1 or not (0 <= first <= last <= 7):
            raise ValueError(f"day of week field {field!r} outside 0..7")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_CRON_DAY_NAMES[day] for day in sorted(days))


def cron_trigger(text: str, timezone: str | ZoneInfo = "Asia/Shanghai") -> CronTrigger:
    """``minute hour day-of-month month day-of-week`` as a CronTrigger; ValueError names the problem."""
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(f"cron {text!r}: expected 5 fields (minute hour day-of-month month day-of-week)")
    minute, hour, day, month, weekday = parts
    try:
        return CronTrigger(
            minute=minute, hour=hour, day=day, month=month, day_of_week=_crontab_weekdays(weekday), timezone=timezone
        )
    except ValueError as exc:
        raise ValueError(f"cron {text!r}: {exc}") from None


class WeeklyWindow(Strict):
    """Every week on ``days`` from ``start`` to ``end`` (local time; an end before the start crosses midnight)."""

    days: list[Any] = Field(default_factory=lambda: list(range(1, 8)), description="mon..sun or 1..7; default every day")
    start: str
    end: str

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[Any]) -> list[int]:
        return sorted({_weekday(v) for v in listify(value)})

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: Any) -> str:
        if isinstance(value, int):  # YAML 1.1 reads 02:00 as sexagesimal 120
            value = f"{value // 60:02d}:{value % 60:02d}"
        if not _CLOCK.match(str(value)):
            raise ValueError(f"{value!r} is not a time of day HH:MM")
        return str(value)


class MaintenanceWindow(Strict):
    """Planned work: the devices are in maintenance, their faults recorded as waived, the time
    left out of the online rate (as the contract says: ``online_rate.maintenance``)."""

    name: str
    devices: StrList = Field(default_factory=list)
    groups: StrList = Field(default_factory=list)
    systems: StrList = Field(default_factory=list)
    units: StrList = Field(default_factory=list)
    start: datetime | None = Field(None, description="one-off window (no offset: the agent's time zone)")
    end: datetime | None = None
    weekly: WeeklyWindow | None = None
    cron: str | None = Field(None, description="minute hour day-of-month month day-of-week, with duration_minutes")
    duration_minutes: float | None = Field(None, gt=0)

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            cron_trigger(value)
        return value

    @model_validator(mode="after")
    def _shape(self) -> MaintenanceWindow:
        if not (self.devices or self.groups or self.systems or self.units):
            raise ValueError("a maintenance window needs devices:, groups:, systems: or units:")
        kinds = sum([self.start is not None or self.end is not None, self.weekly is not None, self.cron is not None])
        if kinds != 1:
            raise ValueError("give exactly one of start:/end: (one-off), weekly: or cron: (+ duration_minutes)")
        if (self.start is None) != (self.end is None):
            raise ValueError("a one-off window needs both start: and end:")
        if self.start is not None and self.end is not None and _naive_key(self.end) <= _naive_key(self.start):
            raise ValueError("end is not after start")
        if self.cron is not None and self.duration_minutes is None:
            raise ValueError("cron: needs duration_minutes:")
        return self


def _naive_key(moment: datetime) -> float:
    return moment.timestamp() if moment.tzinfo else moment.replace(tzinfo=None).timestamp()


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
    """(start, end) of the occurrence of ``window`` in force at ``now``, if any (the latest started)."""
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
        duration = window.duration_minutes * 60
        trigger = cron_trigger(window.cron, zone)
        earliest = datetime.fromtimestamp(now - duration + 1e-3, zone)
        fire = trigger.get_next_fire_time(None, earliest)
        latest = None
        for _ in range(_MAX_FIRES):
            if fire is None or fire.timestamp() > now:
                break
            latest = fire.timestamp()
            fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        return None if latest is None else (latest, latest + duration)
    return None


class MaintenanceCalendar:
    """The configured windows resolved against the inventory's devices."""

    def __init__(self, windows: list[MaintenanceWindow], inventory: Any) -> None:
        self.windows = list(windows)
        self.zone = ZoneInfo(inventory.agent.timezone)
        self.targets: list[frozenset[str]] = [self._devices(w, inventory) for w in self.windows]

    @staticmethod
    def _devices(window: MaintenanceWindow, inventory: Any) -> frozenset[str]:
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
