"""A validated config's names and settings, read back without parsing or validating it again.

``yunwei status`` and ``yunwei faults list`` need the data dir, time zone, language, agent id,
the names of units, systems, groups and devices, the groups' thresholds and the probes'
intervals: not the 10,000 devices parsed from YAML and validated again (1–3 s). After a full
load succeeds (``yunwei check``, ``yunwei run``, or the first such command) those are written
as JSON (inventory.snapshot) with the fingerprint of everything the load read: every file
(size, mtime, SHA-256) and every environment variable it used. ``read_view`` returns the view
only while that fingerprint (and the code that validated it) still holds; otherwise the command loads the config in full, so a
config with an error is refused exactly as before. Plain data only: importing this module
imports neither pydantic nor the config models.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from inventory.online import PeriodSpec, threshold_on

VERSION = 1
# The packages whose code decides what a valid config is (they register its sections and probe
# options): an upgrade rewrites their directories, and a view written by older code is not used.
CODE = ("inventory", "alerting", "exporters", "compliance", "collectors")
@dataclass(slots=True)
class AgentView:
    id: str
    timezone: str
    language: str
    default_interval: float


@dataclass(slots=True)
class ProbeView:
    name: str
    collector: str
    interval: float


@dataclass(slots=True)
class DeviceView:
    id: str
    name: str
    kind: str
    unit: str | None
    system: str | None
    group: str | None
    parent: str | None
    probes: dict[str, ProbeView]

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(slots=True)
class RateView:
    threshold: float
    warn_margin: float
    periods: tuple[PeriodSpec, ...] = ()

    def threshold_on(self, day: date) -> float:
        return threshold_on(self.threshold, self.periods, day)


@dataclass(slots=True)
class GroupView:
    id: str
    name: str
    unit: str | None
    system: str | None
    kind: str | None
    online_rate: RateView | None


@dataclass(slots=True)
class NamedView:
    """A unit or a system."""

    id: str
    name: str
    unit: str | None = None


@dataclass
class InventoryView:
    """What read-only commands read of an ``inventory.config.Inventory``, by the same names."""

    source: str
    data_dir: Path
    agent: AgentView
    units: dict[str, NamedView]
    systems: dict[str, NamedView]
    groups: dict[str, GroupView]
    devices: dict[str, DeviceView]
    maintenance: list[dict[str, Any]] = field(default_factory=list)  # the windows as validated (JSON)

    def covering(self, now: float) -> dict[str, Any]:
        """Device id → the maintenance occurrence covering it now (``Inventory.covering``)."""
        if not self.maintenance:
            return {}
        # Only a config with maintenance windows pays for their models (pydantic, cron triggers).
        from inventory.maintenance import MaintenanceCalendar, MaintenanceWindow

        windows = [MaintenanceWindow.model_validate(window) for window in self.maintenance]
        return MaintenanceCalendar(windows, self).covering(now)


def cache_path(config: str | Path) -> Path:
    """Where the view of one config file is kept: the user's cache, one file per config path
    (the data dir is named inside the config, so it cannot be found before reading it)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "yunwei"
    digest = hashlib.sha256(str(Path(config).resolve()).encode()).hexdigest()[:20]
    return base / f"config-view-{digest}.json"


def file_print(path: str | Path) -> list[Any] | None:
    """(path, size, mtime_ns, sha256) of a file, or None when it cannot be read."""
    try:
        stat = os.stat(path)
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None
    return [str(path), stat.st_size, stat.st_mtime_ns, digest]


def code_print() -> list[list[Any]]:
    root = Path(__file__).resolve().parents[1]
    prints = []
    for package in CODE:
        try:
            prints.append([package, os.stat(root / package).st_mtime_ns])
        except OSError:
            prints.append([package, None])
    return prints


def env_print(names: Iterable[str]) -> list[list[str | None]]:
    return [[name, _hashed(os.environ.get(name))] for name in sorted(set(names))]


def _hashed(value: str | None) -> str | None:
    return None if value is None else hashlib.sha256(value.encode()).hexdigest()


def read_view(config: str | Path) -> InventoryView | None:
    """The view of ``config`` if one was written for it and nothing it was built from changed."""
    try:
        data = json.loads(cache_path(config).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != VERSION or data.get("config") != str(Path(config).resolve()):
        return None
    if any(file_print(entry[0]) != entry for entry in data["files"]):
        return None
    if env_print(name for name, _ in data["env"]) != data["env"] or data.get("code") != code_print():
        return None
    return view_from_data(data["view"])


def view_from_data(data: Mapping[str, Any]) -> InventoryView:
    agent = data["agent"]
    return InventoryView(
        source=data["source"],
        data_dir=Path(data["data_dir"]),
        agent=AgentView(agent["id"], agent["timezone"], agent["language"], agent["default_interval"]),
        units={u[0]: NamedView(*u) for u in data["units"]},
        systems={s[0]: NamedView(*s) for s in data["systems"]},
        groups={
            g[0]: GroupView(*g[:5], online_rate=None if g[5] is None else RateView(
                g[5][0], g[5][1], tuple((date.fromisoformat(p[0]), date.fromisoformat(p[1]), p[2], p[3]) for p in g[5][2])
            ))
            for g in data["groups"]
        },
        devices={
            d[0]: DeviceView(*d[:7], probes={p[0]: ProbeView(*p) for p in d[7]})
            for d in data["devices"]
        },
        maintenance=list(data.get("maintenance", [])),
    )
