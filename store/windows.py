"""Maintenance windows made at run time (component ``windows``): one row per window, its
definition kept as JSON text. What a window means (the calendar, validation) lives in
``agent.windows``; here are only rows."""

from __future__ import annotations

from typing import Literal, NamedTuple

from store.db import Store

# applied scripts are never edited (customers' data directories carry them): append new ones
MIGRATIONS = [
    """
    CREATE TABLE maintenance_windows (
        id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, body TEXT NOT NULL, start REAL NOT NULL,
        end REAL NOT NULL, created REAL NOT NULL, created_by TEXT NOT NULL, ended REAL, ended_by TEXT
    )
    """,
]

EndOutcome = Literal["ended", "no such window", "already ended"]


class WindowRow(NamedTuple):
    id: int
    body: str  # the window's definition as JSON
    start: float
    end: float
    created_by: str
    ended: float | None  # when it was ended early, else None
    ended_by: str | None


class WindowStore:
    """The ``maintenance_windows`` table of one ``Store``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate("windows", MIGRATIONS)

    def add(self, name: str, body: str, start: float, end: float, created: float, created_by: str) -> int:
        """Store a window; returns its id."""
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO maintenance_windows (name, body, start, end, created, created_by) VALUES (?, ?, ?, ?, ?, ?)",
                (name, body, start, end, created, created_by),
            )
            return int(cursor.lastrowid or 0)

    def end(self, window_id: int, by: str, now: float) -> EndOutcome:
        """End a window at ``now``, unless there is no such window or it has ended already
        (ended early, or its end is not after ``now``)."""
        with self.store.transaction() as db:
            row = db.execute("SELECT end, ended FROM maintenance_windows WHERE id = ?", (window_id,)).fetchone()
            if row is None:
                return "no such window"
            if row[1] is not None or row[0] <= now:
                return "already ended"
            db.execute("UPDATE maintenance_windows SET ended = ?, ended_by = ? WHERE id = ?", (now, by, window_id))
            return "ended"

    def ending_after(self, since: float) -> list[WindowRow]:
        """Windows ending after ``since`` (an ended window ends when it was ended), by start."""
        with self.store._lock:
            rows = self.store.db.execute(
                "SELECT id, body, start, end, created_by, ended, ended_by FROM maintenance_windows"
                " WHERE COALESCE(ended, end) > ? ORDER BY start, id",
                (since,),
            ).fetchall()
        return [WindowRow(*row) for row in rows]

    def signature(self) -> tuple[int, int]:
        """(windows, windows ended early): changes when a window is added or ended."""
        with self.store._lock:
            row = self.store.db.execute("SELECT COUNT(*), COUNT(ended) FROM maintenance_windows").fetchone()
        return int(row[0]), int(row[1])
