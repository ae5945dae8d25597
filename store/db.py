"""The embedded store: SQLite in WAL mode, one writer, versioned migrations per component.

Core tables (component ``core``):
- ``samples``: the head of the raw probe results, the newest minutes (``store.head``; older
  ones are chunks and rollups: ``store.samples``);
- ``latest``: the newest sample of every (device, probe), for status and /metrics;
- ``transitions``: confirmed state changes, the ledger's source of truth for online rates;
- ``agent_runs``: when the agent itself ran (gaps are *unknown* time, not up or down);
- ``ledger``: other ledger events (faults, records, vulnerabilities) as JSON bodies keyed by uid;
- ``facts``: slow-changing device facts (model, firmware, serial).

Other packages add their own tables with ``Store.migrate(component, scripts)``: script *n*
of a component is applied once, in order, inside a transaction.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import InputError
from core.model import Sample, State, Transition
from store import head
from store.lock import unusable_data_dir

if TYPE_CHECKING:
    from store.samples import SampleStore

CORE_MIGRATIONS: list[str] = [
    """
    CREATE TABLE samples (
        ts REAL NOT NULL, device TEXT NOT NULL, probe TEXT NOT NULL, ok INTEGER NOT NULL,
        metrics TEXT, error TEXT, info TEXT
    );
    CREATE INDEX samples_device_ts ON samples (device, ts);
    CREATE INDEX samples_ts ON samples (ts);
    CREATE TABLE latest (
        device TEXT NOT NULL, probe TEXT NOT NULL, ts REAL NOT NULL, ok INTEGER NOT NULL,
        metrics TEXT, error TEXT, info TEXT, PRIMARY KEY (device, probe)
    );
    CREATE TABLE transitions (
        id INTEGER PRIMARY KEY AUTOINCREMENT, device TEXT NOT NULL, at REAL NOT NULL,
        state TEXT NOT NULL, previous TEXT NOT NULL, cause TEXT NOT NULL DEFAULT '', agent TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX transitions_device_at ON transitions (device, at);
    CREATE INDEX transitions_at ON transitions (at);
    CREATE TABLE agent_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, agent TEXT NOT NULL, started REAL NOT NULL,
        last_seen REAL NOT NULL, stopped REAL
    );
    CREATE TABLE ledger (
        uid TEXT PRIMARY KEY, type TEXT NOT NULL, at REAL NOT NULL, agent TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL
    );
    CREATE INDEX ledger_type_at ON ledger (type, at);
    CREATE TABLE facts (
        device TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated REAL NOT NULL,
        PRIMARY KEY (device, key)
    );
    """,
    # each probe's confirmed (debounced) result: degraded devices for ``status``, and a restarted
    # agent takes its probes up where they were
    """
    CREATE TABLE probe_states (
        device TEXT NOT NULL, probe TEXT NOT NULL, ok INTEGER NOT NULL, since REAL NOT NULL,
        PRIMARY KEY (device, probe)
    );
    """,
]


class Store:
    """A SQLite database file. Methods are synchronous and serialised by a lock; the agent
    calls them from one writer thread so the event loop never waits on disk."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        db: sqlite3.Connection | None = None
        try:  # a data directory that cannot be created, opened or written is bad input, not a crash
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT NOT NULL, version INTEGER NOT NULL,"
                " applied REAL NOT NULL, PRIMARY KEY (component, version))"
            )
            self.migrate("core", CORE_MIGRATIONS)
        except (OSError, sqlite3.DatabaseError) as exc:
            if db is not None:
                db.close()
            if isinstance(exc, OSError):
                raise unusable_data_dir(self.path.parent, exc) from None
            hint = " (agent.data_dir must be a directory this user can write)" if isinstance(exc, sqlite3.OperationalError) else ""
            raise InputError.single(str(self.path), f"cannot use the store: {exc}{hint}") from None

    # -- plumbing -------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> _Transaction:
        """``with store.transaction() as db:`` runs statements atomically."""
        return _Transaction(self)

    def migrate(self, component: str, scripts: Sequence[str]) -> int:
        """Apply the scripts of ``component`` not applied yet; returns how many ran."""
        with self._lock:
            done = {
                row[0]
                for row in self.db.execute("SELECT version FROM schema_migrations WHERE component = ?", (component,))
            }
            applied = 0
            for version, script in enumerate(scripts, start=1):
                if version in done:
                    continue
                with self.transaction() as db:
                    for statement in _split_sql(script):
                        db.execute(statement)
                    db.execute(
                        "INSERT INTO schema_migrations (component, version, applied) VALUES (?, ?, ?)",
                        (component, version, time.time()),
                    )
                applied += 1
            return applied

    def schema_version(self, component: str = "core") -> int:
        with self._lock:
            row = self.db.execute(
                "SELECT MAX(version) FROM schema_migrations WHERE component = ?", (component,)
            ).fetchone()
            return int(row[0] or 0)

    # -- samples (store.samples.SampleStore) ---------------------------------------------

    @functools.cached_property
    def samples(self) -> SampleStore:
        """Chunks and rollups. Imported on first use: their numpy would add ~0.1 s to every
        ``yunwei status``, which reads only the head."""
        from store.samples import SampleStore  # start-up speed, not a cycle

        return SampleStore(self)

    def write_samples(self, samples: Iterable[Sample]) -> int:
        return head.write(self, samples)

    def latest_samples(self) -> list[Sample]:
        return head.latest(self)

    def samples_for(self, device: str, since: float = 0.0, probe: str | None = None) -> list[Sample]:
        return self.samples.for_device(device, since, probe)

    def prune_samples(self, older_than: float, batch: int = 5000) -> int:
        return self.samples.prune(older_than, batch)

    # -- transitions ----------------------------------------------------------------------

    def add_transitions(self, transitions: Iterable[Transition], agent: str = "") -> None:
        rows = [(t.device, t.at, str(t.state), str(t.previous), t.cause, agent) for t in transitions]
        if rows:
            with self.transaction() as db:
                db.executemany(
                    "INSERT INTO transitions (device, at, state, previous, cause, agent) VALUES (?, ?, ?, ?, ?, ?)", rows
                )

    def current_states(self) -> dict[str, tuple[State, float]]:
        """Each device's last recorded state and since when (the later-recorded one on a tie)."""
        # One index lookup per device instead of one per transition: 10,000 devices with
        # 1,000,000 transitions take 0.07 s instead of 0.31 s.
        with self._lock:
            rows = self.db.execute(
                "SELECT t.device, t.state, t.at FROM (SELECT DISTINCT device FROM transitions) d"
                " JOIN transitions t ON t.id ="
                " (SELECT id FROM transitions WHERE device = d.device ORDER BY at DESC, id DESC LIMIT 1)"
            ).fetchall()
        by_value = {s.value: s for s in State}  # a dict lookup, not an Enum call per device
        return {device: (by_value[state], at) for device, state, at in rows}

    def transitions(self, start: float = 0.0, end: float = float("inf"), device: str | None = None) -> list[Transition]:
        query = "SELECT device, at, state, previous, cause FROM transitions WHERE at >= ? AND at < ?"
        params: list[Any] = [start, end if end != float("inf") else 1e18]
        if device is not None:
            query += " AND device = ?"
            params.append(device)
        with self._lock:
            rows = self.db.execute(query + " ORDER BY at, id", params).fetchall()
        return [Transition(d, at, State(s), State(p), c) for d, at, s, p, c in rows]

    def set_probe_states(self, changes: Iterable[tuple[str, str, bool, float]]) -> None:
        rows = [(device, probe, int(ok), since) for device, probe, ok, since in changes]
        if rows:
            with self.transaction() as db:
                db.executemany(
                    "INSERT INTO probe_states (device, probe, ok, since) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (device, probe) DO UPDATE SET ok = excluded.ok, since = excluded.since",
                    rows,
                )

    def probe_states(self) -> dict[tuple[str, str], tuple[bool, float]]:
        """(device, probe) → (confirmed ok, since) as the agent last recorded it."""
        with self._lock:
            rows = self.db.execute("SELECT device, probe, ok, since FROM probe_states").fetchall()
        return {(device, probe): (bool(ok), since) for device, probe, ok, since in rows}

    # -- the agent's own run periods ------------------------------------------------------

    def start_run(self, agent: str, now: float | None = None) -> int:
        now = time.time() if now is None else now
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO agent_runs (agent, started, last_seen) VALUES (?, ?, ?)", (agent, now, now)
            )
            return int(cursor.lastrowid or 0)

    def heartbeat(self, run_id: int, now: float | None = None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE agent_runs SET last_seen = ? WHERE id = ?", (time.time() if now is None else now, run_id))

    def stop_run(self, run_id: int, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self.transaction() as db:
            db.execute("UPDATE agent_runs SET last_seen = ?, stopped = ? WHERE id = ?", (now, now, run_id))

    def agent_runs(self, agent: str | None = None) -> list[tuple[str, float, float]]:
        """(agent, started, ended) of every run; a run that died ends at its last heartbeat."""
        query = "SELECT agent, started, COALESCE(stopped, last_seen) FROM agent_runs"
        params: tuple[Any, ...] = ()
        if agent is not None:
            query += " WHERE agent = ?"
            params = (agent,)
        with self._lock:
            return [(a, s, e) for a, s, e in self.db.execute(query + " ORDER BY started", params)]

    # -- ledger events and facts ----------------------------------------------------------

    def put_event(self, uid: str, type_: str, at: float, body: dict[str, Any], agent: str = "") -> bool:
        """Insert or replace a ledger event; returns True when it was new or changed."""
        text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        with self.transaction() as db:
            row = db.execute("SELECT body FROM ledger WHERE uid = ?", (uid,)).fetchone()
            if row is not None and row[0] == text:
                return False
            db.execute(
                "INSERT INTO ledger (uid, type, at, agent, body) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (uid) DO UPDATE SET type = excluded.type, at = excluded.at,"
                " agent = excluded.agent, body = excluded.body",
                (uid, type_, at, agent, text),
            )
            return True

    def events(
        self, types: Sequence[str] | None = None, start: float = 0.0, end: float = 1e18
    ) -> Iterator[tuple[str, str, float, str, dict[str, Any]]]:
        """(uid, type, at, agent, body) of ledger events in time order."""
        query = "SELECT uid, type, at, agent, body FROM ledger WHERE at >= ? AND at < ?"
        params: list[Any] = [start, end]
        if types:
            query += f" AND type IN ({','.join('?' * len(types))})"
            params.extend(types)
        with self._lock:
            rows = self.db.execute(query + " ORDER BY at, uid", params).fetchall()
        for uid, type_, at, agent, body in rows:
            yield uid, type_, at, agent, json.loads(body)

    def set_facts(self, device: str, facts: dict[str, str], now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO facts (device, key, value, updated) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (device, key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
                [(device, k, str(v), now) for k, v in facts.items()],
            )

    def facts(self, device: str) -> dict[str, str]:
        with self._lock:
            return dict(self.db.execute("SELECT key, value FROM facts WHERE device = ?", (device,)).fetchall())


class _Transaction:
    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        self.store._lock.acquire()
        self.store.db.execute("BEGIN IMMEDIATE")
        return self.store.db

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            self.store.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.store._lock.release()


def _split_sql(script: str) -> list[str]:
    return [statement.strip() for statement in script.split(";") if statement.strip()]


def open_store(data_dir: str | Path) -> Store:
    """The agent's store inside its data directory."""
    return Store(Path(data_dir) / "yunwei.db")
