"""Scheduled work that is not a probe round: meetings to check before, inspections to run.

Inspection schedules are short phrases, in the agent's time zone:

- ``daily 08:30``
- ``workdays 08:30``: China's official working days (the ``chinesecalendar`` package: weekends
  off except adjusted working days 调休, public holidays off); for a year the package does not
  know yet, Monday to Friday is assumed and the log says so once;
- ``weekly mon 09:00`` (``mon`` .. ``sun``);
- ``monthly 1 09:00`` (day 1-31; a shorter month uses its last day) or ``monthly last 17:00``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from pydantic import Field

from inventory.models import Strict

log = logging.getLogger("yunwei.schedule")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PHRASE = re.compile(
    r"^\s*(?P<kind>daily|workdays|weekly|monthly)\s+(?:(?P<arg>[a-z]{3}|\d{1,2}|last)\s+)?(?P<hh>\d{1,2}):(?P<mm>\d{2})\s*$",
    re.IGNORECASE,
)
_assumed_years: set[int] = set()


class Meeting(Strict):
    """A meeting whose venues are checked for readiness ahead of time."""

    name: str = ""
    at: datetime
    venues: list[str] = Field(default_factory=list, description="device or group ids of the venues' terminals")
    check_before_minutes: float = Field(30, gt=0)
    unit: str | None = Field(None, description="unit the readiness record is filed under (default: the first venue's)")
    system: str | None = None
    max_loss_percent: float = Field(0.0, ge=0, le=100, description="ICMP loss above this makes a venue not ready")
    max_rtt_ms: float | None = Field(None, gt=0, description="RTT above this makes a venue not ready")


@dataclass(frozen=True)
class When:
    """A parsed schedule phrase."""

    kind: str  # daily, workdays, weekly, monthly
    at: time
    weekday: int | None = None  # 0 = Monday
    day: int | None = None  # 1..31, or -1 for the last day of the month

    def matches(self, day: date) -> bool:
        if self.kind == "daily":
            return True
        if self.kind == "workdays":
            return is_working_day(day)
        if self.kind == "weekly":
            return day.weekday() == self.weekday
        last = _last_day(day)
        wanted = last if self.day == -1 else min(self.day or 1, last)
        return day.day == wanted

    def next_after(self, moment: datetime) -> datetime:
        """The first time strictly after ``moment`` (aware) this schedule fires, in ``moment``'s zone."""
        zone = moment.tzinfo
        day = moment.date()
        for _ in range(800):
            if self.matches(day):
                candidate = datetime.combine(day, self.at, tzinfo=zone)
                if candidate > moment:
                    return candidate
            day += timedelta(days=1)
        raise ValueError(f"schedule {self} never fires")  # pragma: no cover - every phrase fires within a year

    def earlier_today(self, moment: datetime) -> datetime | None:
        """This schedule's firing on ``moment``'s day at or before ``moment``, if there is one."""
        if not self.matches(moment.date()):
            return None
        candidate = datetime.combine(moment.date(), self.at, tzinfo=moment.tzinfo)
        return candidate if candidate <= moment else None

    def __str__(self) -> str:
        arg = ""
        if self.kind == "weekly" and self.weekday is not None:
            arg = WEEKDAYS[self.weekday] + " "
        elif self.kind == "monthly":
            arg = ("last" if self.day == -1 else str(self.day)) + " "
        return f"{self.kind} {arg}{self.at.strftime('%H:%M')}"


def parse_when(text: str) -> When:
    """Parse a schedule phrase; ValueError with an example when it is not one."""
    match = _PHRASE.match(text)
    example = "e.g. 'workdays 08:30', 'daily 09:00', 'weekly mon 09:00', 'monthly 1 09:00'"
    if not match:
        raise ValueError(f"schedule {text!r} is not understood ({example})")
    kind, arg = match.group("kind").lower(), (match.group("arg") or "").lower()
    hour, minute = int(match.group("hh")), int(match.group("mm"))
    if hour > 23 or minute > 59:
        raise ValueError(f"schedule {text!r}: {hour:02d}:{minute:02d} is not a time of day")
    at = time(hour, minute)
    if kind in ("daily", "workdays"):
        if arg:
            raise ValueError(f"schedule {text!r}: {kind} takes only a time ({example})")
        return When(kind, at)
    if kind == "weekly":
        if arg not in WEEKDAYS:
            raise ValueError(f"schedule {text!r}: weekly needs a day, one of {', '.join(WEEKDAYS)}")
        return When(kind, at, weekday=WEEKDAYS.index(arg))
    if arg == "last":
        return When(kind, at, day=-1)
    if not arg.isdigit() or not 1 <= int(arg) <= 31:
        raise ValueError(f"schedule {text!r}: monthly needs a day of the month 1-31 or 'last'")
    return When(kind, at, day=int(arg))


def working_day_status(day: date) -> tuple[bool, bool]:
    """(is China's official working day, known from the official calendar).

    ``chinesecalendar`` holds the State Council's calendar year by year (weekends off except
    adjusted working days 调休, public holidays off); outside its years Monday-Friday is assumed."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:
        return day.weekday() < 5, False


def is_working_day(day: date) -> bool:
    """China's official working day; Mon-Fri (logged once per year) for years the calendar lacks."""
    working, official = working_day_status(day)
    if not official and day.year not in _assumed_years:
        _assumed_years.add(day.year)
        log.warning(
            "chinesecalendar has no official calendar for %d: working days taken as Monday-Friday "
            "(upgrade the chinesecalendar package)",
            day.year,
        )
    return working


def _last_day(day: date) -> int:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (following - timedelta(days=1)).day
