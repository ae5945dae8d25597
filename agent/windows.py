"""Maintenance windows made at run time (the console's 维护 page): stored, so they survive restarts.

A stored window is an ordinary ``MaintenanceWindow`` (one-off: start and end) kept as JSON in
``maintenance_windows``. ``calendar`` gives the config's windows and the stored ones as one
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

MIGRATIONS = [
    """
    CREATE TABLE maintenance_windows (
        id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, body TEXT NOT NULL, start REAL NOT NULL,
        end REAL NOT NULL, created REAL NOT NULL, created_by TEXT NOT NULL, ended REAL, ended_by TEXT
    )
    """,
]


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
    store.migrate("windows", MIGRATIONS)
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
    with prepare(store).transaction() as db:
        cursor = db.execute(
            "INSERT INTO maintenance_windows (name, body, start, end, created, created_by) VALUES (?, ?, ?, ?, ?, ?)",
            (window.name, window.model_dump_json(), start, end, now, by),
        )
        window_id = int(cursor.lastrowid or 0)
    return StoredWindow(window_id, window, start, end, by, None, None)


def end_window(store: Store, window_id: int, by: str, now: float | None = None) -> None:
    now = time.time() if now is None else now
    with prepare(store).transaction() as db:
        row = db.execute("SELECT end, ended FROM maintenance_windows WHERE id = ?", (window_id,)).fetchone()
        if row is None:
            raise InputError.single("maintenance window", f"no window {window_id}")
        if row[1] is not None or row[0] <= now:
            raise InputError.single("maintenance window", f"window {window_id} has already ended")
        db.execute("UPDATE maintenance_windows SET ended = ?, ended_by = ? WHERE id = ?", (now, by, window_id))


def stored_windows(store: Store, since: float = 0.0) -> list[StoredWindow]:
    """Windows ending after ``since`` (an ended window ends when it was ended)."""
    with prepare(store)._lock:
        rows = store.db.execute(
            "SELECT id, body, start, end, created_by, ended, ended_by FROM maintenance_windows"
            " WHERE COALESCE(ended, end) > ? ORDER BY start, id",
            (since,),
        ).fetchall()
    found = []
    for id_, body, start, end, created_by, ended, ended_by in rows:
        window = MaintenanceWindow.model_validate(json.loads(body))
        if ended is not None:
            zone = window.start.tzinfo if window.start and window.start.tzinfo else None
            window = window.model_copy(update={"end": datetime.fromtimestamp(max(ended, start + 1), zone)})
        found.append(StoredWindow(id_, window, start, min(end, ended) if ended else end, created_by, ended, ended_by))
    return found


def signature(store: Store) -> tuple[int, int]:
    """Changes when a window is added or ended (the engine re-reads the windows then)."""
    with prepare(store)._lock:
        row = store.db.execute("SELECT COUNT(*), COUNT(ended) FROM maintenance_windows").fetchone()
    return int(row[0]), int(row[1])


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
