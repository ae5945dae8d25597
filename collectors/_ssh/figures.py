"""The health figures an inspection extracts, whatever the device family."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

_UNITS = {
    "year": 365 * 86400,
    "week": 7 * 86400,
    "day": 86400,
    "hour": 3600,
    "minute": 60,
    "second": 1,
}


@dataclass
class Figures:
    """What an inspection found. ``None`` means the output did not say."""

    uptime_seconds: float | None = None
    cpu_percent: float | None = None
    memory_percent: float | None = None
    interfaces_down: int | None = None
    down_interfaces: list[str] = field(default_factory=list)
    disk_percent: float | None = None  # the fullest file system (linux)
    notes: list[str] = field(default_factory=list)

    def set_down(self, names: list[str] | None) -> None:
        """Record the interfaces found down (None: the output had no interface table)."""
        if names is not None:
            self.interfaces_down, self.down_interfaces = len(names), names

    def metrics(self) -> dict[str, float]:
        values = {
            "uptime_seconds": self.uptime_seconds,
            "cpu_percent": self.cpu_percent,
            "memory_percent": self.memory_percent,
            "interfaces_down": self.interfaces_down,
            "disk_percent": self.disk_percent,
        }
        return {k: float(v) for k, v in values.items() if v is not None}


def uptime_words(text: str) -> float | None:
    """Seconds from ``uptime is 1 year, 12 weeks, 3 days, 4 hours, 5 minutes`` style text."""
    match = re.search(r"uptime is\s+(.+)", text, re.IGNORECASE)
    if not match:
        return None
    total = 0.0
    found = False
    for number, unit in re.findall(r"(\d+)\s*(year|week|day|hour|minute|second)s?", match.group(1), re.IGNORECASE):
        total += int(number) * _UNITS[unit.lower()]
        found = True
    return total if found else None


def percent(pattern: str, text: str) -> float | None:
    """The first number captured by ``pattern`` (a regex with one group) as a float."""
    match = re.search(pattern, text, re.IGNORECASE | re.MULTILINE)
    return float(match.group(1)) if match else None


def down_in_table(
    outputs: dict[str, str], command: str, is_header: Callable[[str], bool], down_name: Callable[[str], str | None]
) -> list[str] | None:
    """Interfaces found down in the table printed by the command matching ``command`` (a regex).

    Rows count from the first line ``is_header`` accepts; ``down_name`` returns a row's interface
    when it is down (not administratively down), else None. None when there is no such table."""
    table = next((out for cmd, out in outputs.items() if re.search(command, cmd, re.IGNORECASE)), None)
    if table is None:
        return None
    names: list[str] = []
    seen = False
    for line in table.splitlines():
        if not seen:
            seen = is_header(line)
            continue
        name = down_name(line)
        if name:
            names.append(name)
    return names if seen else None
