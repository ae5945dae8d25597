"""Assessment periods: calendar months, contract months starting on a given day, years; their
weeks, days and China's official working days (``chinesecalendar``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from compliance.contract import Contract, PeriodSpec, Term
from core.timefmt import day_start
from inventory.schedule import working_day_status


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in epoch seconds; ``first``..``last`` are its local days (inclusive)."""

    label: str
    kind: str  # "month" or "year"
    first: date
    last: date
    start: float
    end: float
    tz: str
    start_day: int = 1

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def contains(self, epoch: float) -> bool:
        return self.start <= epoch < self.end


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months (the day of month must exist in the target month)."""
    index = day.year * 12 + (day.month - 1) + months
    return day.replace(year=index // 12, month=index % 12 + 1)


def _make(label: str, kind: str, first: date, after: date, tz: str, start_day: int) -> Period:
    return Period(label, kind, first, after - timedelta(days=1), day_start(first, tz), day_start(after, tz), tz, start_day)


def parse_period(text: str, spec: PeriodSpec, tz: str) -> Period:
    """``2026-11`` (the month, or the contract month starting in it) or ``2026`` (12 such months).

    Raises ValueError for anything else."""
    value = text.strip()
    day = spec.start_day if spec.kind == "contract_month" else 1
    month = _MONTH.match(value)
    if month:
        year, number = int(month.group(1)), int(month.group(2))
        if not 1 <= number <= 12:
            raise ValueError(f"{text!r}: month must be 01-12")
        first = date(year, number, day)
        return _make(value, "month", first, add_months(first, 1), tz, day)
    year_match = _YEAR.match(value)
    if year_match:
        first = date(int(year_match.group(1)), 1, day)
        return _make(value, "year", first, add_months(first, 12), tz, day)
    raise ValueError(f"{text!r} is not a period (write 2026-11 for a month or 2026 for a year)")


def shift(period: Period, months: int) -> Period:
    """The period ``months`` months earlier (negative) or later, of the same length."""
    length = 1 if period.kind == "month" else 12
    first = add_months(period.first, months)
    label = f"{first.year:04d}-{first.month:02d}" if period.kind == "month" else f"{first.year:04d}"
    return _make(label, period.kind, first, add_months(first, length), period.tz, period.start_day)


def weeks_ending_in(period: Period) -> list[tuple[date, date]]:
    """Whole Monday-Sunday weeks whose Sunday falls in the period (the first may begin before it):
    a week is judged in the period in which it ends."""
    result = []
    sunday = period.first + timedelta(days=6 - period.first.weekday())
    while sunday <= period.last:
        result.append((sunday - timedelta(days=6), sunday))
        sunday += timedelta(days=7)
    return result


def week_key(day: date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso[0], iso[1]


is_working_day = working_day_status  # (is a working day, from the official calendar)


def working_days(days: list[date]) -> tuple[list[date], list[date]]:
    """The working days among ``days`` and the days whose status had to be assumed (Mon-Fri)."""
    working, assumed = [], []
    for day in days:
        value, official = is_working_day(day)
        if value:
            working.append(day)
        if not official:
            assumed.append(day)
    return working, assumed


def quarter_of(period: Period, term: Term | None) -> tuple[date, bool]:
    """(first day of the contract quarter holding the period, whether the period ends that quarter).

    Quarters count from the term's start (contract quarters: the fee is paid quarterly), else
    from January."""
    anchor = date(period.first.year, 1, period.start_day) if term is None else term.start
    months = (period.first.year - anchor.year) * 12 + period.first.month - anchor.month
    quarter_start = add_months(anchor, (months // 3) * 3)
    return quarter_start, months % 3 == 2


def contract_year_of(period: Period, term: Term | None) -> tuple[date, bool]:
    """(first day of the contract year holding the period, whether the period ends that year).

    Contract years count from the term's start, else from January; a year period is its own."""
    if period.kind == "year":
        return period.first, True
    anchor = date(period.first.year, 1, period.start_day) if term is None else term.start
    months = (period.first.year - anchor.year) * 12 + period.first.month - anchor.month
    return add_months(anchor, (months // 12) * 12), months % 12 == 11


def contract_period(contract: Contract, text: str) -> Period:
    return parse_period(text, contract.period, contract.timezone)
