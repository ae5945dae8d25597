"""The ledger's tables in bulk: a file's import, an export, one period's read for the calculator.

The tables (``transitions``, ``agent_runs``, ``ledger``) are core tables, created by the core
migrations in ``store.db``; this repository adds none of its own. The writes and reads of one
row or one kind (``Store.put_event``, ``events``, ``add_transitions``, ``transitions``,
``agent_runs``) stay on ``Store``. File formats, validation and wording live in
``compliance.ledgerio``: here are only rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from store.db import Store

Change = Literal["added", "updated", "unchanged"]


class TransitionRow(NamedTuple):
    """A row of ``transitions``; ``id`` is 0 for one not written yet. The previous state is
    derived from the device's transitions before it, so it is not part of the row."""

    device: str
    at: float
    state: str
    cause: str
    agent: str
    id: int = 0


class RunRow(NamedTuple):
    """A row of ``agent_runs``; ``stopped`` is None for a run that had not stopped (it ends at
    ``last_seen``, its last heartbeat)."""

    agent: str
    started: float
    last_seen: float
    stopped: float | None


class EventRow(NamedTuple):
    """A row of ``ledger``: the body is the canonical JSON text as stored."""

    uid: str
    type: str
    at: float
    agent: str
    body: str


@dataclass
class ImportChanges:
    """What an import changed: transitions added or already there, and each run's and each
    event's change, in the order they were given."""

    states_added: int = 0
    states_unchanged: int = 0
    runs: list[Change] = field(default_factory=list)
    events: list[Change] = field(default_factory=list)


@dataclass
class LedgerRows:
    """What an export reads, consistent with each other (one lock)."""

    transitions: list[TransitionRow]
    runs: list[RunRow]
    events: list[EventRow]


StateRows = Iterable[tuple[str, float, str, str]]  # (device, at, state, agent)
EventRows = Iterable[tuple[str, str, float, str, str]]  # (uid, type, at, agent, body)


class LedgerStore:
    """Bulk access to the ledger tables of one ``Store``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- import -----------------------------------------------------------------------------

    def import_rows(self, states: list[TransitionRow], runs: list[RunRow], events: list[EventRow]) -> ImportChanges:
        """Write transitions, runs and events in one transaction, adding only what is not there:
        a transition with the same device, time and state, a run with the same agent and start
        (it is extended or marked stopped), an event with the same uid, body and agent."""
        changes = ImportChanges()
        with self.store.transaction() as db:
            _import_states(db, states, changes)
            changes.runs = [_import_run(db, run) for run in runs]
            changes.events = [_import_event(db, event) for event in events]
        return changes

    # -- export -----------------------------------------------------------------------------

    def export_rows(self, start: float, end: float) -> LedgerRows:
        """Transitions in ``[start, end)`` plus, with a start, each device's last one before it;
        the runs overlapping the range; every event before ``end`` (the caller keeps the ones
        still open at ``start``)."""
        db = self.store.db
        with self.store._lock:
            transitions = [
                TransitionRow(device, at, state, cause, agent, row_id)
                for row_id, device, at, state, cause, agent in db.execute(
                    "SELECT id, device, at, state, cause, agent FROM transitions WHERE at >= ? AND at < ?", (start, end)
                )
            ]
            if start > 0:
                transitions += [
                    TransitionRow(device, at, state, cause, agent, row_id)
                    for row_id, device, at, state, cause, agent in db.execute(
                        "SELECT id, device, MAX(at), state, cause, agent FROM transitions WHERE at < ? GROUP BY device",
                        (start,),
                    )
                ]
            runs = [
                RunRow(*row)
                for row in db.execute(
                    "SELECT agent, started, last_seen, stopped FROM agent_runs"
                    " WHERE started < ? AND COALESCE(stopped, last_seen) >= ?", (end, start)
                )
            ]
            events = [EventRow(*row) for row in db.execute("SELECT uid, type, at, agent, body FROM ledger WHERE at < ?", (end,))]
        return LedgerRows(transitions, runs, events)

    # -- one period, for the calculator -----------------------------------------------------

    def read_period(
        self,
        start: float,
        end: float,
        events_since: float,
        take_states: Callable[[StateRows], None],
        take_events: Callable[[EventRows], None],
    ) -> list[tuple[str, float, float]]:
        """Read ``[start, end)`` under one lock, handing the rows straight from the cursor to the
        caller (a 50,000-device month held as lists first doubled the calculation's peak memory):

        - ``take_states`` is called twice: with each device's last transition before ``start``,
          then with the transitions of the period in time order, as (device, at, state, agent);
        - ``take_events`` once, with the fault, vuln and record events from ``events_since``
          until ``end`` in time order, as (uid, type, at, agent, body JSON text).

        Returns every agent run as (agent, started, ended); a run that died ends at its last
        heartbeat."""
        db = self.store.db
        with self.store._lock:
            take_states(db.execute(
                "SELECT device, MAX(at), state, agent FROM transitions WHERE at < ? GROUP BY device", (start,)
            ))
            take_states(db.execute(
                "SELECT device, at, state, agent FROM transitions WHERE at >= ? AND at < ? ORDER BY at, id", (start, end)
            ))
            runs = [(a, s, e) for a, s, e in db.execute("SELECT agent, started, COALESCE(stopped, last_seen) FROM agent_runs")]
            take_events(db.execute(
                "SELECT uid, type, at, agent, body FROM ledger WHERE at >= ? AND at < ? AND type IN ('fault','vuln','record')"
                " ORDER BY at, uid", (events_since, end)
            ))
        return runs

    # -- single reads ---------------------------------------------------------------------------

    def event_body(self, uid: str) -> str | None:
        """The stored JSON body of the event ``uid``, or None."""
        with self.store._lock:
            row = self.store.db.execute("SELECT body FROM ledger WHERE uid = ?", (uid,)).fetchone()
        return None if row is None else str(row[0])

    def last_run(self, agent: str) -> RunRow | None:
        """The agent's most recent run, or None when it never ran."""
        with self.store._lock:
            row = self.store.db.execute(
                "SELECT agent, started, last_seen, stopped FROM agent_runs WHERE agent = ? ORDER BY started DESC LIMIT 1",
                (agent,),
            ).fetchone()
        return None if row is None else RunRow(*row)


def _import_states(db: sqlite3.Connection, states: list[TransitionRow], changes: ImportChanges) -> None:
    if not states:
        return
    low = min(s.at for s in states)
    high = max(s.at for s in states)
    existing = {
        (device, at, state)
        for device, at, state in db.execute(
            "SELECT device, at, state FROM transitions WHERE at >= ? AND at <= ?", (low, high)
        )
    }
    rows = []
    for row in sorted(states, key=lambda s: (s.at,)):
        key = (row.device, row.at, row.state)
        if key in existing:
            changes.states_unchanged += 1
            continue
        existing.add(key)
        rows.append((row.device, row.at, row.state, "unknown", row.cause, row.agent))
    changes.states_added += len(rows)
    if not rows:
        return
    db.executemany(
        "INSERT INTO transitions (device, at, state, previous, cause, agent) VALUES (?, ?, ?, ?, ?, ?)", rows
    )
    db.execute("CREATE TEMP TABLE IF NOT EXISTS import_devices (device TEXT PRIMARY KEY)")
    db.execute("DELETE FROM import_devices")
    db.executemany("INSERT OR IGNORE INTO import_devices VALUES (?)", ((r[0],) for r in rows))
    # the previous state of every transition of the devices touched, inserted rows included
    db.execute(
        "UPDATE transitions SET previous = p.prev FROM ("
        " SELECT id, COALESCE(LAG(state) OVER (PARTITION BY device ORDER BY at, id), 'unknown') AS prev"
        " FROM transitions WHERE device IN (SELECT device FROM import_devices)) AS p"
        " WHERE transitions.id = p.id AND transitions.previous <> p.prev"
    )
    db.execute("DELETE FROM import_devices")


def _import_run(db: sqlite3.Connection, run: RunRow) -> Change:
    row = db.execute(
        "SELECT id, last_seen, stopped FROM agent_runs WHERE agent = ? AND started = ?", (run.agent, run.started)
    ).fetchone()
    if row is None:
        db.execute(
            "INSERT INTO agent_runs (agent, started, last_seen, stopped) VALUES (?, ?, ?, ?)",
            (run.agent, run.started, run.last_seen, run.stopped),
        )
        return "added"
    run_id, last_seen, old_stopped = row
    if run.last_seen > last_seen or (run.stopped is not None and old_stopped is None):
        db.execute(
            "UPDATE agent_runs SET last_seen = ?, stopped = COALESCE(?, stopped) WHERE id = ?",
            (max(run.last_seen, last_seen), run.stopped, run_id),
        )
        return "updated"
    return "unchanged"


def _import_event(db: sqlite3.Connection, event: EventRow) -> Change:
    row = db.execute("SELECT body, agent FROM ledger WHERE uid = ?", (event.uid,)).fetchone()
    if row is not None and row[0] == event.body and row[1] == event.agent:
        return "unchanged"
    db.execute(
        "INSERT INTO ledger (uid, type, at, agent, body) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (uid) DO UPDATE SET type = excluded.type, at = excluded.at,"
        " agent = excluded.agent, body = excluded.body",
        (event.uid, event.type, event.at, event.agent, event.body),
    )
    return "added" if row is None else "updated"
