"""The durable spool: batches of line protocol waiting for their backend, in the agent's SQLite store.

Every batch is written here *before* it is sent and deleted only after the backend accepted
it, so an agent killed at any moment loses nothing that reached the spool; a batch accepted
but not yet deleted is sent again after a restart, which line protocol makes harmless (same
series and timestamp → the same point). Rows are replayed strictly in ``id`` order.

Payloads are stored as they go on the wire (gzip members when gzip is on): consecutive gzip
members concatenated are one valid gzip stream, so a replay merges rows without recompressing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from store.db import Store

MIGRATIONS: list[str] = [
    """
    CREATE TABLE exporter_spool (
        id INTEGER PRIMARY KEY AUTOINCREMENT, exporter TEXT NOT NULL, created REAL NOT NULL,
        points INTEGER NOT NULL, encoding TEXT NOT NULL, payload BLOB NOT NULL
    );
    CREATE INDEX exporter_spool_head ON exporter_spool (exporter, id);
    CREATE TABLE exporter_marks (
        exporter TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (exporter, key)
    );
    """,
]


@dataclass(frozen=True)
class SpoolBatch:
    """One or more consecutive spool rows merged into one request body."""

    ids: tuple[int, ...]
    points: int
    encoding: str
    payload: bytes


class Spool:
    """An exporter's queue of unsent batches. Thread-safe through the store's lock."""

    def __init__(self, store: Store, exporter: str) -> None:
        self.store = store
        self.exporter = exporter
        store.migrate("exporters", MIGRATIONS)
        with store.transaction() as db:
            rows, points = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(points), 0) FROM exporter_spool WHERE exporter = ?", (exporter,)
            ).fetchone()
        self.rows = int(rows)
        self.points = int(points)

    def append(
        self,
        batches: Sequence[tuple[int, str, bytes]],
        created: float,
        max_points: int,
        marks: dict[str, str] | None = None,
    ) -> int:
        """Add (points, encoding, payload) batches in order; trims the oldest beyond ``max_points``.

        ``marks`` (what has been exported already) are recorded in the same transaction.
        Returns how many points were dropped by the trim (0 normally)."""
        if not batches and not marks:
            return 0
        dropped = 0
        with self.store.transaction() as db:
            if marks:
                db.executemany(
                    "INSERT INTO exporter_marks (exporter, key, value) VALUES (?, ?, ?)"
                    " ON CONFLICT (exporter, key) DO UPDATE SET value = excluded.value",
                    [(self.exporter, k, v) for k, v in marks.items()],
                )
            db.executemany(
                "INSERT INTO exporter_spool (exporter, created, points, encoding, payload) VALUES (?, ?, ?, ?, ?)",
                [(self.exporter, created, points, encoding, payload) for points, encoding, payload in batches],
            )
            total = self.points + sum(b[0] for b in batches)
            rows = self.rows + len(batches)
            if total > max_points:
                for row_id, points in db.execute(
                    "SELECT id, points FROM exporter_spool WHERE exporter = ? ORDER BY id", (self.exporter,)
                ).fetchall():
                    if total <= max_points:
                        break
                    db.execute("DELETE FROM exporter_spool WHERE id = ?", (row_id,))
                    total -= points
                    rows -= 1
                    dropped += points
        self.points, self.rows = total, rows
        return dropped

    def head(self, max_points: int) -> SpoolBatch | None:
        """The oldest rows (at least one) of one encoding, merged up to ``max_points`` lines."""
        with self.store.transaction() as db:
            rows = db.execute(
                "SELECT id, points, encoding FROM exporter_spool WHERE exporter = ? ORDER BY id LIMIT 1000",
                (self.exporter,),
            ).fetchall()
            if not rows:
                return None
            ids: list[int] = []
            points = 0
            encoding = rows[0][2]
            for row_id, row_points, row_encoding in rows:
                if ids and (row_encoding != encoding or points + row_points > max_points):
                    break
                ids.append(row_id)
                points += row_points
            payloads = dict(
                db.execute(
                    f"SELECT id, payload FROM exporter_spool WHERE id IN ({','.join('?' * len(ids))})", ids
                ).fetchall()
            )
        return SpoolBatch(tuple(ids), points, encoding, b"".join(payloads[i] for i in ids))

    def delete(self, batch: SpoolBatch) -> None:
        with self.store.transaction() as db:
            db.executemany("DELETE FROM exporter_spool WHERE id = ?", [(i,) for i in batch.ids])
        self.points = max(0, self.points - batch.points)
        self.rows = max(0, self.rows - len(batch.ids))

    # -- small persistent marks (what has been exported already) ----------------------------

    def marks(self, prefix: str) -> dict[str, str]:
        with self.store.transaction() as db:
            rows = db.execute(
                "SELECT key, value FROM exporter_marks WHERE exporter = ? AND substr(key, 1, ?) = ?",
                (self.exporter, len(prefix), prefix),
            ).fetchall()
        return dict(rows)
