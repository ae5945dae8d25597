"""Raw samples and their rollups: the newest hour as rows, older hours as compact chunks.

A round's samples land in ``samples`` (one row each, the crash-safe head) and ``latest``.
Housekeeping (every 10 minutes) merges the rows older than ``SEAL_GRACE`` of each device's
probe into their hour's ``sample_chunks`` row (see ``store.chunk``) and its 5-minute buckets
into the hour's ``sample_rollups`` row, and folds a sealed day's 24 hours into one chunk and
one rollup row. Keeping the head to minutes matters more than it seems: every round inserts
one entry per device into the head's (device, time) index, scattered over all its pages, so
the pages a round rewrites grow with the head (an hour-long head doubled the disk writes). Each step is a short transaction over a few hundred devices that deletes what it moved in
the same transaction, so a crash loses nothing and never counts a sample twice. A sample that
arrives for a span already moved is merged into that span's chunk on the next pass.

Raw chunks are pruned after ``retention_days``; rollups are kept for the contract's life.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.model import Sample
from store.chunk import DAY, HOUR, Columns, day_of, hour_of
from store.head import COLUMNS, from_row
from store.rollup import BUCKET, Bucket, buckets_of, decode_rollup, encode_rollup

if TYPE_CHECKING:
    import sqlite3

    from store.db import Store

SEAL_GRACE = 120.0

MIGRATIONS: list[str] = [
    """
    CREATE TABLE sample_schemas (id INTEGER PRIMARY KEY, names TEXT NOT NULL UNIQUE);
    CREATE TABLE sample_chunks (
        id INTEGER PRIMARY KEY, device TEXT NOT NULL, probe TEXT NOT NULL, start INTEGER NOT NULL,
        span INTEGER NOT NULL, schema INTEGER NOT NULL, count INTEGER NOT NULL, data BLOB NOT NULL
    );
    CREATE UNIQUE INDEX sample_chunks_key ON sample_chunks (device, probe, start);
    CREATE INDEX sample_chunks_start ON sample_chunks (start);
    CREATE INDEX sample_chunks_hourly ON sample_chunks (start) WHERE span = 3600;
    CREATE TABLE sample_rollups (
        id INTEGER PRIMARY KEY, device TEXT NOT NULL, probe TEXT NOT NULL, start INTEGER NOT NULL,
        span INTEGER NOT NULL, schema INTEGER NOT NULL, data BLOB NOT NULL
    );
    CREATE UNIQUE INDEX sample_rollups_key ON sample_rollups (device, probe, start);
    """,
]

class SampleStore:
    """The repository of raw samples past the head (chunks) and of rollups. (The head and the
    newest sample per probe are ``store.head``: what every round and ``yunwei status`` use,
    without numpy.)"""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate("samples", MIGRATIONS)
        self._schemas: dict[int, tuple[str, ...]] = {}
        self._schema_ids: dict[tuple[str, ...], int] = {}

    # -- writing --------------------------------------------------------------------------

    def compact(self, now: float, devices: int = 200, rows: int = 20_000) -> int:
        """One step of housekeeping: move the rows older than ``SEAL_GRACE`` of up to ``devices``
        devices into their hours' chunks and rollups, or else fold the sealed days of up to
        ``devices`` devices, stopping after the device that passes ``rows`` samples (the first
        pass over a store of JSON rows written before chunks holds days of them); returns the samples moved (0: nothing is left to
        do). Call until it returns 0."""
        try:
            return self._seal(now - SEAL_GRACE, devices, rows) or self._fold_days(day_of(now - SEAL_GRACE), devices, rows)
        except BaseException:
            self._schemas.clear()  # a rolled-back transaction may have taken new schema ids with it
            self._schema_ids.clear()
            raise

    def _seal(self, sealed: float, devices: int, budget: int) -> int:
        moved = 0
        with self.store.transaction() as db:
            names = [row[0] for row in db.execute(
                "SELECT DISTINCT device FROM samples WHERE ts < ? LIMIT ?", (sealed, devices))]
            for device in names:
                rows = db.execute(
                    f"SELECT {COLUMNS} FROM samples WHERE device = ? AND ts < ? ORDER BY ts", (device, sealed)
                ).fetchall()
                groups: dict[tuple[str, int], list[Sample]] = defaultdict(list)
                for row in rows:
                    sample = from_row(row)
                    groups[(sample.probe, hour_of(sample.ts))].append(sample)
                for (probe, hour), fresh in groups.items():
                    covering = db.execute(
                        "SELECT start, span FROM sample_chunks WHERE device = ? AND probe = ? AND start <= ? AND start > ?"
                        " ORDER BY start DESC LIMIT 1",
                        (device, probe, hour, hour - DAY),
                    ).fetchone()
                    start, span = covering if covering and covering[0] + covering[1] > hour else (hour, HOUR)
                    self._write_chunk(db, device, probe, start, span, [Columns.of(fresh)])
                db.execute("DELETE FROM samples WHERE device = ? AND ts < ?", (device, sealed))
                moved += len(rows)
                if moved >= budget:
                    break
        return moved

    def _fold_days(self, sealed_day: int, devices: int, budget: int) -> int:
        """A sealed day's hourly chunks of a device's probe become one day chunk."""
        moved = 0
        with self.store.transaction() as db:
            names = [row[0] for row in db.execute(
                "SELECT DISTINCT device FROM sample_chunks WHERE span = 3600 AND start < ? LIMIT ?", (sealed_day, devices))]
            for device in names:
                hours = db.execute(
                    "SELECT probe, start FROM sample_chunks WHERE device = ? AND span = 3600 AND start < ?", (device, sealed_day)
                ).fetchall()
                days: dict[tuple[str, int], list[Columns]] = defaultdict(list)
                for probe, start in hours:
                    days[(probe, day_of(start))].append(self._take(db, device, probe, start))
                for (probe, day), parts in days.items():
                    moved += self._write_chunk(db, device, probe, day, DAY, parts)
                if moved >= budget:
                    break
        return moved

    def _take(self, db: sqlite3.Connection, device: str, probe: str, start: int) -> Columns:
        """Remove a chunk and its rollup; returns its samples."""
        found = db.execute(
            "SELECT schema, data FROM sample_chunks WHERE device = ? AND probe = ? AND start = ?", (device, probe, start)
        ).fetchone()
        if found is None:
            return Columns.of([])
        key = (device, probe, start)
        db.execute("DELETE FROM sample_chunks WHERE device = ? AND probe = ? AND start = ?", key)
        db.execute("DELETE FROM sample_rollups WHERE device = ? AND probe = ? AND start = ?", key)
        return Columns.decode(found[1], self._schema(db, found[0]))

    def _write_chunk(
        self, db: sqlite3.Connection, device: str, probe: str, start: int, span: int, parts: list[Columns]
    ) -> int:
        """Merge ``parts`` into the chunk at ``start`` (made if missing) and rewrite its rollup;
        returns the samples the parts held. An existing chunk is updated in place, so its index
        entries are not rewritten."""
        key = (device, probe, start)
        found = db.execute(
            "SELECT id, schema, data FROM sample_chunks WHERE device = ? AND probe = ? AND start = ?", key
        ).fetchone()
        known = [Columns.decode(found[2], self._schema(db, found[1]))] if found else []
        columns = Columns.joined([*known, *parts])
        schema = columns.schema
        schema_id = self._schema_id(db, schema)
        chunk = columns.encode(schema)
        # the rollup is made from the values as the chunk keeps them, so both tell the same numbers
        rollup = encode_rollup(columns.kept(), start, span, schema)
        if found:
            db.execute("UPDATE sample_chunks SET schema = ?, count = ?, data = ? WHERE id = ?",
                       (schema_id, columns.count, chunk, found[0]))
            db.execute("UPDATE sample_rollups SET schema = ?, data = ? WHERE device = ? AND probe = ? AND start = ?",
                       (schema_id, rollup, *key))
        else:
            db.execute(
                "INSERT INTO sample_chunks (device, probe, start, span, schema, count, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*key, span, schema_id, columns.count, chunk),
            )
            db.execute(
                "INSERT INTO sample_rollups (device, probe, start, span, schema, data) VALUES (?, ?, ?, ?, ?, ?)",
                (*key, span, schema_id, rollup),
            )
        return sum(part.count for part in parts)

    def prune(self, older_than: float, batch: int = 5000) -> int:
        """Delete raw samples older than ``older_than`` (chunks when their whole span is older)
        in batches of ``batch`` rows, one short transaction each; returns how many samples
        went. Rollups stay."""
        removed = 0
        while True:
            with self.store.transaction() as db:
                count = db.execute(
                    "DELETE FROM samples WHERE rowid IN (SELECT rowid FROM samples WHERE ts < ? LIMIT ?)", (older_than, batch)
                ).rowcount
            removed += count
            if count < batch:
                break
        while True:
            with self.store.transaction() as db:
                picked = db.execute(
                    "SELECT id, count FROM sample_chunks WHERE start < ? AND start + span <= ? LIMIT ?",
                    (older_than, older_than, batch),
                ).fetchall()
                db.executemany("DELETE FROM sample_chunks WHERE id = ?", [(row[0],) for row in picked])
            removed += sum(row[1] for row in picked)
            if len(picked) < batch:
                return removed

    # -- reading --------------------------------------------------------------------------

    def for_device(self, device: str, since: float = 0.0, probe: str | None = None) -> list[Sample]:
        """Every raw sample of ``device`` (one probe, or all) since ``since``, in time order."""
        probe_clause, params = ("AND probe = ?", [probe]) if probe is not None else ("", [])
        with self.store._lock:
            db = self.store.db
            chunks = db.execute(
                f"SELECT probe, start, schema, data FROM sample_chunks WHERE device = ? AND start > ? {probe_clause}",
                [device, since - DAY, *params],
            ).fetchall()
            head = db.execute(
                f"SELECT {COLUMNS} FROM samples WHERE device = ? AND ts >= ? {probe_clause} ORDER BY ts",
                [device, since, *params],
            ).fetchall()
            schemas = {schema: self._schema(db, schema) for _, _, schema, _ in chunks}
        found = [
            s for p, _, schema, data in chunks for s in Columns.decode(data, schemas[schema]).samples(device, p) if s.ts >= since
        ]
        found.extend(from_row(row) for row in head)
        found.sort(key=lambda s: s.ts)
        return found

    def rollups(
        self, device: str, probe: str | None, start: float, end: float, step: float = BUCKET
    ) -> list[Bucket]:
        """Buckets of ``step`` seconds (a multiple of 5 minutes) from ``start`` to ``end`` of one
        probe (None: all the device's probes together): the stored 5-minute rollups, merged, and
        the head's samples not rolled up yet."""
        if step % BUCKET:
            raise ValueError(f"step {step} is not a multiple of {BUCKET} seconds")
        probe_clause, params = ("AND probe = ?", [probe]) if probe is not None else ("", [])
        with self.store._lock:
            db = self.store.db
            stored = db.execute(
                "SELECT start, span, schema, data FROM sample_rollups WHERE device = ? AND start > ? AND start < ?"
                f" {probe_clause} ORDER BY start",
                [device, start - DAY, end, *params],
            ).fetchall()
            head = db.execute(
                f"SELECT {COLUMNS} FROM samples WHERE device = ? AND ts >= ? AND ts < ? {probe_clause}",
                [device, start, end, *params],
            ).fetchall()
            schemas = {schema: self._schema(db, schema) for _, _, schema, _ in stored}
        fine: list[Bucket] = [
            b for begin, span, schema, data in stored for b in decode_rollup(data, begin, span, schemas[schema])
        ]
        fine.extend(buckets_of((from_row(row) for row in head), hour_of(start)).values())
        merged: dict[float, Bucket] = {}
        for bucket in fine:
            if not start - BUCKET < bucket.start < end:
                continue
            begin = start + ((bucket.start - start) // step) * step
            target = merged.get(begin)
            if target is None:
                target = merged[begin] = Bucket(begin, step)
            target.merge(bucket)
        return [merged[key] for key in sorted(merged)]

    def sizes(self) -> dict[str, int]:
        """Rows in the head, chunks and rollups (for the tests and the benchmark)."""
        with self.store._lock:
            db = self.store.db
            return {
                table: int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                for table in ("samples", "sample_chunks", "sample_rollups")
            }

    # -- metric-name schemas -------------------------------------------------------------

    def _schema(self, db: sqlite3.Connection, schema_id: int) -> tuple[str, ...]:
        names = self._schemas.get(schema_id)
        if names is None:
            (text,) = db.execute("SELECT names FROM sample_schemas WHERE id = ?", (schema_id,)).fetchone()
            names = self._schemas[schema_id] = tuple(json.loads(text))
            self._schema_ids[names] = schema_id
        return names

    def _schema_id(self, db: sqlite3.Connection, names: Sequence[str]) -> int:
        key = tuple(names)
        known = self._schema_ids.get(key)
        if known is not None:
            return known
        text = json.dumps(list(key), separators=(",", ":"))
        db.execute("INSERT OR IGNORE INTO sample_schemas (names) VALUES (?)", (text,))
        (schema_id,) = db.execute("SELECT id FROM sample_schemas WHERE names = ?", (text,)).fetchone()
        self._schema_ids[key], self._schemas[schema_id] = schema_id, key
        return int(schema_id)
