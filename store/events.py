"""The ``events`` table: every trap and syslog message kept, searchable, pruned after retention.

A repository over the agent's store; the tables are the ``events`` component's migrations.
Writes come in batches from the agent's writer thread (``receivers.hooks``); ``yunwei events``
and ``yunwei status`` read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from core.events import Event
from store.db import Store

MIGRATIONS = [
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL, kind TEXT NOT NULL, device TEXT, source TEXT NOT NULL, name TEXT NOT NULL,
        oid TEXT NOT NULL DEFAULT '', hint TEXT, subject TEXT NOT NULL DEFAULT '', metric TEXT, value REAL,
        level INTEGER, severity INTEGER, text TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '',
        varbinds TEXT, outcome TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX events_at ON events (at);
    CREATE INDEX events_device_at ON events (device, at);
    """,
    """
    CREATE TABLE receiver_stats (receiver TEXT PRIMARY KEY, body TEXT NOT NULL, updated REAL NOT NULL);
    """,
]


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    event: Event
    outcome: str  # what the daemon did with it: "fault", "confirmed", "not confirmed", "" …


class EventLog:
    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate("events", MIGRATIONS)

    def add(self, events: Iterable[Event], outcome: str = "") -> list[int]:
        rows = [
            (
                e.at, e.kind, e.device, e.source, e.name[:200], e.oid[:200], e.hint, e.subject[:200], e.metric, e.value,
                e.level, e.severity, e.text[:1000], e.message[:8192],
                _JSON.encode(e.varbinds) if e.varbinds else None, outcome,
            )
            for e in events
        ]
        if not rows:
            return []
        with self.store.transaction() as db:
            db.executemany(
                "INSERT INTO events (at, kind, device, source, name, oid, hint, subject, metric, value, level,"
                " severity, text, message, varbinds, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            # one writer inside one transaction: the rows got consecutive ids ending at the last one
            last = int(db.execute("SELECT last_insert_rowid()").fetchone()[0])
        return list(range(last - len(rows) + 1, last + 1))

    def set_outcome(self, event_id: int, outcome: str) -> None:
        with self.store.transaction() as db:
            db.execute("UPDATE events SET outcome = ? WHERE id = ?", (outcome, event_id))

    def search(
        self,
        device: str | None = None,
        since: float = 0.0,
        until: float = 1e18,
        kind: str | None = None,
        text: str | None = None,
        limit: int = 200,
        hint: str | None = None,
    ) -> list[StoredEvent]:
        """Newest first: by device (or source address), time, kind, and text in name/OID/message/varbinds."""
        query = ["SELECT id, at, kind, device, source, name, oid, hint, subject, metric, value, level, severity, text,"
                 " message, varbinds, outcome FROM events WHERE at >= ? AND at < ?"]
        params: list[Any] = [since, until]
        if device is not None:
            query.append("AND (device = ? OR source = ?)")
            params += [device, device]
        if kind is not None:
            query.append("AND kind = ?")
            params.append(kind)
        if hint is not None:
            query.append("AND hint = ?")
            params.append(hint)
        if text:
            query.append("AND (name LIKE ? OR oid LIKE ? OR text LIKE ? OR message LIKE ? OR varbinds LIKE ? OR subject LIKE ?)")
            params += [f"%{text}%"] * 6
        query.append("ORDER BY at DESC, id DESC LIMIT ?")
        params.append(limit)
        with self.store.transaction() as db:
            rows = db.execute(" ".join(query), params).fetchall()
        return [_row(row) for row in rows]

    def prune(self, kind: str, older_than: float) -> int:
        with self.store.transaction() as db:
            return int(db.execute("DELETE FROM events WHERE kind = ? AND at < ?", (kind, older_than)).rowcount)

    def save_stats(self, receiver: str, body: dict[str, Any], now: float) -> None:
        """The running daemon's counters of one receiver (for ``yunwei status``)."""
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO receiver_stats (receiver, body, updated) VALUES (?, ?, ?) ON CONFLICT (receiver)"
                " DO UPDATE SET body = excluded.body, updated = excluded.updated",
                (receiver, json.dumps(body, ensure_ascii=False), now),
            )

    def stats(self) -> dict[str, tuple[dict[str, Any], float]]:
        with self.store.transaction() as db:
            rows = db.execute("SELECT receiver, body, updated FROM receiver_stats").fetchall()
        return {receiver: (json.loads(body), updated) for receiver, body, updated in rows}

    def unknown_sources(self, since: float = 0.0, limit: int = 5) -> list[tuple[str, int]]:
        """Source addresses that match no device, with how many messages each sent (most first)."""
        with self.store.transaction() as db:
            rows = db.execute(
                "SELECT source, COUNT(*) AS n FROM events WHERE at >= ? AND device IS NULL GROUP BY source ORDER BY n DESC LIMIT ?",
                (since, limit),
            ).fetchall()
        return [(str(source), int(n)) for source, n in rows]

    def count(self, since: float = 0.0) -> int:
        with self.store.transaction() as db:
            return int(db.execute("SELECT COUNT(*) FROM events WHERE at >= ?", (since,)).fetchone()[0])


def _row(row: Sequence[Any]) -> StoredEvent:
    (id_, at, kind, device, source, name, oid, hint, subject, metric, value, level, severity, text, message, varbinds,
     outcome) = row
    event = Event(
        kind, source, at, name, device=device, oid=oid, varbinds=json.loads(varbinds) if varbinds else {},
        message=message, hint=hint, subject=subject, metric=metric, value=value, level=level, text=text, severity=severity,
    )
    return StoredEvent(id_, event, outcome)
