"""Maintenance windows made at run time (the console's 维护 page): stored, so they survive restarts.

A stored window is an ordinary ``MaintenanceWindow`` (one-off: start and end) kept as JSON by
``store.windows``. ``calendar`` gives the config's windows and the stored ones as one
``MaintenanceCalendar``: the fleet state (devices in MAINTENANCE, the window filed in the
ledger), alerting (faults waived) and ``status`` all read it, so a stored window acts exactly
as a config window does. Ending a window early sets its end to the moment it was ended.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from core.errors import InputError
from inventory.config import Inventory
from inventory.maintenance import MaintenanceCalendar, MaintenanceWindow, Occurrence
from store.db import Store
from store.windows import WindowStore


@dataclass(frozen=True)
class StoredWindow:
    id: int
    window: MaintenanceWindow
    start: float
    end: float
    created_by: str
    ended: float | None
    ended_by: str | None


def prepare(store: Store) -> Store:
    """The store with its ``maintenance_windows`` table in place."""
    WindowStore(store)
    return store


def add_window(
    store: Store, name: str, start: float, end: float, timezone: str, by: str, now: float | None = None,
    devices: list[str] | None = None, groups: list[str] | None = None, systems: list[str] | None = None,
    units: list[str] | None = None,
) -> StoredWindow:
    """Validate and store a one-off window; InputError names what is wrong."""
    zone = ZoneInfo(timezone)
    try:
        window = MaintenanceWindow(
            name=name.strip(), devices=devices or [], groups=groups or [], systems=systems or [], units=units or [],
            start=datetime.fromtimestamp(start, zone), end=datetime.fromtimestamp(end, zone),
        )
    except ValidationError as exc:
        raise InputError.single("maintenance window", "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())) from None
    if not window.name:
        raise InputError.single("maintenance window", "give the window a name (e.g. 今晚割接)")
    now = time.time() if now is None else now
    window_id = WindowStore(store).add(window.name, window.model_dump_json(), start, end, now, by)
    return StoredWindow(window_id, window, start, end, by, None, None)


def end_window(store: Store, window_id: int, by: str, now: float | None = None) -> None:
    now = time.time() if now is None else now
    outcome = WindowStore(store).end(window_id, by, now)
    if outcome == "no such window":
        raise InputError.single("maintenance window", f"no window {window_id}")
    if outcome == "already ended":
        raise InputError.single("maintenance window", f"window {window_id} has already ended")


def stored_windows(store: Store, since: float = 0.0) -> list[StoredWindow]:
    """Windows ending after ``since`` (an ended window ends when it was ended)."""
    found = []
    for id_, body, start, end, created_by, ended, ended_by in WindowStore(store).ending_after(since):
        window = MaintenanceWindow.model_validate(json.loads(body))
        if ended is not None:
            zone = window.start.tzinfo if window.start and window.start.tzinfo else None
            window = window.model_copy(update={"end": datetime.fromtimestamp(max(ended, start + 1), zone)})
        found.append(StoredWindow(id_, window, start, min(end, ended) if ended else end, created_by, ended, ended_by))
    return found


def signature(store: Store) -> tuple[int, int]:
    """Changes when a window is added or ended (the engine re-reads the windows then)."""
    return WindowStore(store).signature()


def active_windows(store: Store, config_windows: list[MaintenanceWindow], now: float) -> list[MaintenanceWindow]:
    """The config's windows and the stored ones not ended before ``now`` - one day (a calendar's input)."""
    return [*config_windows, *(w.window for w in stored_windows(store, since=now - 86400))]


def calendar(store: Store, inventory: Inventory, now: float) -> MaintenanceCalendar:
    """The config's windows and the stored ones in force around ``now``, as one calendar."""
    return MaintenanceCalendar(active_windows(store, inventory.config.maintenance, now), inventory)


def covering(store: Store, inventory: Any, now: float) -> dict[str, Occurrence]:
    """Device id → the window covering it now: the config's (``inventory.covering``, also on the
    read-only commands' config view) and the stored ones, the one ending last where both cover."""
    found = dict(inventory.covering(now))
    stored = [w.window for w in stored_windows(store, since=now - 86400)]
    if stored:
        for device, occurrence in MaintenanceCalendar(stored, inventory).covering(now).items():
            if device not in found or occurrence.end > found[device].end:
                found[device] = occurrence
    return found
