"""Faults in the store: rows, their event history, their ledger body, and the notice queue.

Every change happens in one SQLite transaction (``BEGIN IMMEDIATE``) that re-reads the row,
applies the change, appends to ``alert_events``, upserts the fault's canonical ledger body
(uid ``fault:<id>``) and queues the chat notices. The daemon's engine and the ``yunwei
faults`` CLI both go through here, so neither overwrites the other (an engineer's ack written
by the CLI while the daemon runs is re-read by the daemon before it changes the fault). What a
fault means (levels, deadlines, when one opens or resolves) is alerting's; only the rows are here.

Tables (component ``alerting``): ``alert_faults``, ``alert_events``, ``alert_notices``,
``alert_outbox``, ``alert_attempts``, ``alert_kv`` (the outbox's rows: ``store.outbox``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.recurrence import RecurrenceRule, was_fixed
from core.timefmt import to_iso_seconds as to_iso
from store.db import Store

MIGRATIONS: list[str] = [
    """
    CREATE TABLE alert_faults (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        key TEXT NOT NULL,
        rkey TEXT NOT NULL,
        source TEXT NOT NULL,
        state TEXT NOT NULL,
        level INTEGER NOT NULL,
        device TEXT, grp TEXT, system TEXT, unit TEXT,
        cause TEXT NOT NULL,
        opened REAL NOT NULL,
        respond_by REAL NOT NULL,
        resolve_by REAL NOT NULL,
        acknowledged REAL, acknowledged_by TEXT,
        resolved REAL, resolved_by TEXT, resolved_how TEXT,
        closed REAL, note TEXT,
        waived TEXT,
        recurring_of TEXT,
        absorbed_into TEXT,
        affected TEXT NOT NULL DEFAULT '[]',
        reminders TEXT NOT NULL DEFAULT '[]',
        extra TEXT NOT NULL DEFAULT '{}',
        updated REAL NOT NULL
    );
    CREATE UNIQUE INDEX alert_faults_one_active ON alert_faults (key) WHERE state IN ('open', 'acknowledged');
    CREATE INDEX alert_faults_state ON alert_faults (state);
    CREATE INDEX alert_faults_rkey ON alert_faults (rkey, opened);
    CREATE TABLE alert_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, fault TEXT NOT NULL, at REAL NOT NULL, type TEXT NOT NULL,
        actor TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX alert_events_fault ON alert_events (fault, id);
    CREATE TABLE alert_notices (
        id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, fault TEXT, grp TEXT NOT NULL DEFAULT '',
        level INTEGER, created REAL NOT NULL, body TEXT NOT NULL DEFAULT '{}', state TEXT NOT NULL DEFAULT 'pending'
    );
    CREATE INDEX alert_notices_state ON alert_notices (state, id);
    CREATE TABLE alert_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, kind TEXT NOT NULL,
        thread TEXT NOT NULL DEFAULT '', msgkey TEXT NOT NULL DEFAULT '', created REAL NOT NULL,
        payload TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt REAL NOT NULL, last_error TEXT, sent REAL
    );
    CREATE INDEX alert_outbox_due ON alert_outbox (state, channel, id);
    CREATE TABLE alert_attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, message INTEGER NOT NULL,
        at REAL NOT NULL, ok INTEGER, detail TEXT
    );
    CREATE INDEX alert_attempts_channel_at ON alert_attempts (channel, at);
    CREATE TABLE alert_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)
    """,
]

ACTIVE = ("open", "acknowledged")
_JSON_FIELDS = ("affected", "reminders", "extra")
_COLUMN = {"group": "grp"}


@dataclass
class Fault:
    """One fault: what, since when, how serious, who acknowledged and resolved it, by when."""

    id: str
    key: str  # one active fault per key: down:<dev>, flapping:<dev>, threshold:<rule>:<dev>, group:<grp>, manual:<n>
    rkey: str  # recurrence key: the same device and cause (down and flapping share one)
    source: str  # down, flapping, threshold, group, manual
    state: str  # open, acknowledged, resolved, closed
    level: int
    cause: str
    opened: float
    respond_by: float
    resolve_by: float
    device: str | None = None
    group: str | None = None
    system: str | None = None
    unit: str | None = None
    acknowledged: float | None = None
    acknowledged_by: str | None = None
    resolved: float | None = None
    resolved_by: str | None = None
    resolved_how: str | None = None  # auto, manual, absorbed, flapping, maintenance_end, removed
    closed: float | None = None
    note: str | None = None
    waived: str | None = None  # maintenance (the ledger's waivers: force_majeure, maintenance)
    recurring_of: str | None = None
    absorbed_into: str | None = None
    affected: list[str] = field(default_factory=list)
    reminders: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    updated: float = 0.0
    seq: int = 0

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def scope(self) -> str:
        """The device, group, system or unit the fault is about."""
        return self.device or self.group or self.system or self.unit or "-"


@dataclass
class Notice:
    """Something to tell the chat groups; the dispatcher turns queued notices into messages."""

    kind: str
    fault: str | None = None
    grp: str = ""
    level: int | None = None
    body: dict[str, Any] = field(default_factory=dict)


@dataclass
class QueuedNotice:
    """A notice waiting in ``alert_notices`` for the dispatcher."""

    id: int
    kind: str
    fault: str | None
    grp: str
    level: int | None
    created: float
    body: dict[str, Any]


@dataclass
class Change:
    """What a mutation did: events for the history and notices for the chat groups.

    ``cancel_pending`` drops the fault's notices not rendered yet (an absorbed fault's), in the
    same transaction."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    actor: str = ""
    cancel_pending: bool = False


def _row_to_fault(row: Any, names: list[str]) -> Fault:
    data = dict(zip(names, row, strict=True))
    for name in _JSON_FIELDS:
        data[name] = json.loads(data[name])
    return Fault(**data)


_FIELD_NAMES = [f.name for f in fields(Fault)]


def _columns() -> list[str]:
    return [_COLUMN.get(name, name) for name in _FIELD_NAMES]


def _values(fault: Fault) -> list[Any]:
    values = []
    for name in _FIELD_NAMES:
        value = getattr(fault, name)
        if name in _JSON_FIELDS:
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        values.append(value)
    return values


class FaultStore:
    """Fault rows in the agent's store; every mutation is atomic and leaves a ledger trace."""

    def __init__(self, store: Store, agent_id: str = "", timezone: str = "Asia/Shanghai") -> None:
        self.store = store
        self.agent_id = agent_id
        self.timezone = timezone
        store.migrate("alerting", MIGRATIONS)
        self._select = f"SELECT {', '.join(_columns())} FROM alert_faults"
        self._names = _FIELD_NAMES

    # -- reading ------------------------------------------------------------------------

    def _query(self, where: str = "", params: Iterable[Any] = (), db: Any = None) -> list[Fault]:
        sql = f"{self._select} {where}"
        if db is not None:
            rows = db.execute(sql, tuple(params)).fetchall()
        else:
            with self.store._lock:
                rows = self.store.db.execute(sql, tuple(params)).fetchall()
        return [_row_to_fault(row, self._names) for row in rows]

    def active(self) -> list[Fault]:
        return self._query("WHERE state IN ('open', 'acknowledged') ORDER BY seq")

    def get(self, ref: str) -> Fault | None:
        """A fault by id (``F-20261103-0017``) or by its number (``17``)."""
        ref = ref.strip()
        if ref.isdigit():
            found = self._query("WHERE seq = ?", (int(ref),))
        else:
            found = self._query("WHERE id = ?", (ref,))
            if not found and (match := re.fullmatch(r"(?i)F-?(\d+)", ref)):
                found = self._query("WHERE seq = ?", (int(match.group(1)),))
        return found[0] if found else None

    def listing(self, states: Iterable[str] | None = None, since: float = 0.0, limit: int = 200) -> list[Fault]:
        where, params = "WHERE opened >= ?", [since]
        states = list(states or [])
        if states:
            where += f" AND state IN ({','.join('?' * len(states))})"
            params.extend(states)
        return self._query(where + " ORDER BY seq DESC LIMIT ?", [*params, limit])

    def previous(self, rkey: str, before: float, db: Any = None) -> Fault | None:
        """The latest resolved fault with this recurrence key (not waived or absorbed), opened before ``before``."""
        found = self._query(
            "WHERE rkey = ? AND opened <= ? AND resolved IS NOT NULL AND waived IS NULL AND absorbed_into IS NULL"
            " ORDER BY resolved DESC LIMIT 1",
            (rkey, before),
            db,
        )
        return found[0] if found else None

    def recurrence_of(self, rkey: str, at: float, days: float, cause: str = "") -> str | None:
        """The id of the fault this one repeats, by the calculator's rule (core.recurrence): the same
        object, resolved by someone's fix within ``days`` before ``at``, with the same cause."""
        rule = RecurrenceRule(days * 86400)
        if rule.window_seconds <= 0:
            return None
        earlier = self._query(
            "WHERE rkey = ? AND opened <= ? AND resolved IS NOT NULL AND resolved >= ? AND absorbed_into IS NULL"
            " ORDER BY resolved DESC LIMIT 20",
            (rkey, at, at - rule.window_seconds),
        )
        for previous in earlier:
            if rule.repeats(at, cause, previous.resolved, previous.cause,
                            was_fixed(previous.resolved, previous.resolved_how, previous.waived is not None)):
                return previous.id
        return None

    def last_for_key(self, key: str) -> Fault | None:
        found = self._query("WHERE key = ? ORDER BY seq DESC LIMIT 1", (key,))
        return found[0] if found else None

    def history(self, fault_id: str) -> list[tuple[float, str, str, dict[str, Any]]]:
        with self.store._lock:
            rows = self.store.db.execute(
                "SELECT at, type, actor, detail FROM alert_events WHERE fault = ? ORDER BY id", (fault_id,)
            ).fetchall()
        return [(at, type_, actor, json.loads(detail)) for at, type_, actor, detail in rows]

    # -- writing ------------------------------------------------------------------------

    def open(self, fault: Fault, now: float, change: Change | None = None) -> Fault | None:
        """Insert a new fault (``id`` assigned here); None when one with the same key is active."""
        change = change or Change()
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM alert_faults WHERE key = ? AND state IN ('open', 'acknowledged')", (fault.key,)).fetchone():
                return None
            row = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM alert_faults").fetchone()
            fault.seq = int(row[0])
            day = datetime.fromtimestamp(fault.opened, ZoneInfo(self.timezone)).strftime("%Y%m%d")
            fault.id = f"F-{day}-{fault.seq:04d}"
            fault.updated = now
            columns = _columns()
            db.execute(
                f"INSERT INTO alert_faults ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", _values(fault)
            )
            events = [("opened", {"level": fault.level, "cause": fault.cause, "waived": fault.waived}), *change.events]
            self._record(db, fault, now, events, change)
        return fault

    def update(self, fault_id: str, mutate: Callable[[Fault], Change | None], now: float) -> Fault | None:
        """Re-read the fault, let ``mutate`` change it; written only when it returns a Change."""
        with self.store.transaction() as db:
            found = self._query("WHERE id = ?", (fault_id,), db)
            if not found:
                return None
            fault = found[0]
            change = mutate(fault)
            if change is None:
                return None
            fault.updated = now
            assignments = ", ".join(f"{column} = ?" for column in _columns())
            db.execute(f"UPDATE alert_faults SET {assignments} WHERE seq = ?", [*_values(fault), fault.seq])
            self._record(db, fault, now, change.events, change)
        return fault

    def add_notices(self, notices: Iterable[Notice], now: float) -> None:
        with self.store.transaction() as db:
            self._insert_notices(db, notices, now)

    def _record(self, db: Any, fault: Fault, now: float, events: list[tuple[str, dict[str, Any]]], change: Change) -> None:
        if change.cancel_pending:
            db.execute("UPDATE alert_notices SET state = 'cancelled' WHERE fault = ? AND state = 'pending'", (fault.id,))
        db.executemany(
            "INSERT INTO alert_events (fault, at, type, actor, detail) VALUES (?, ?, ?, ?, ?)",
            [(fault.id, now, type_, change.actor, json.dumps(detail, ensure_ascii=False, sort_keys=True)) for type_, detail in events],
        )
        body = ledger_body(fault, self.timezone)
        text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        # the same upsert as Store.put_event, inside this transaction
        db.execute(
            "INSERT INTO ledger (uid, type, at, agent, body) VALUES (?, 'fault', ?, ?, ?)"
            " ON CONFLICT (uid) DO UPDATE SET type = excluded.type, at = excluded.at,"
            " agent = excluded.agent, body = excluded.body",
            (f"fault:{fault.id}", fault.opened, self.agent_id, text),
        )
        self._insert_notices(db, [replace_fault(n, fault.id) for n in change.notices], now)

    @staticmethod
    def _insert_notices(db: Any, notices: Iterable[Notice], now: float) -> None:
        db.executemany(
            "INSERT INTO alert_notices (kind, fault, grp, level, created, body) VALUES (?, ?, ?, ?, ?, ?)",
            [(n.kind, n.fault, n.grp, n.level, now, json.dumps(n.body, ensure_ascii=False, sort_keys=True)) for n in notices],
        )

    # -- the notice queue ------------------------------------------------------------------

    def pending_notices(self) -> list[QueuedNotice]:
        """Notices not rendered yet, oldest first."""
        with self.store._lock:
            rows = self.store.db.execute(
                "SELECT id, kind, fault, grp, level, created, body FROM alert_notices WHERE state = 'pending' ORDER BY id"
            ).fetchall()
        return [QueuedNotice(i, k, f, g, lv, c, json.loads(b)) for i, k, f, g, lv, c, b in rows]

    def pending_notice_count(self) -> int:
        with self.store._lock:
            return int(self.store.db.execute("SELECT COUNT(*) FROM alert_notices WHERE state = 'pending'").fetchone()[0])

    # -- small persistent state ----------------------------------------------------------

    def kv_get(self, key: str, default: Any = None) -> Any:
        with self.store._lock:
            row = self.store.db.execute("SELECT value FROM alert_kv WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def kv_set(self, key: str, value: Any) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO alert_kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value, ensure_ascii=False)),
            )


def replace_fault(notice: Notice, fault_id: str) -> Notice:
    return notice if notice.fault else Notice(notice.kind, fault_id, notice.grp, notice.level, notice.body)


def ledger_body(fault: Fault, timezone: str) -> dict[str, Any]:
    """The fault as issue 6's ledger JSON object (times ISO 8601 with offset)."""
    body: dict[str, Any] = {"type": "fault", "id": fault.id, "level": fault.level}
    for name in ("device", "group", "system", "unit"):
        value = getattr(fault, name)
        if value is not None:
            body[name] = value
    body.update(
        {
            "opened": to_iso(fault.opened, timezone),
            "acknowledged": to_iso(fault.acknowledged, timezone),
            "resolved": to_iso(fault.resolved, timezone),
            "waived": fault.waived,
            "cause": fault.cause,
            "source": fault.source,
            "state": fault.state,
            "respond_by": to_iso(fault.respond_by, timezone),
            "resolve_by": to_iso(fault.resolve_by, timezone),
            "acknowledged_by": fault.acknowledged_by,
            "resolved_by": fault.resolved_by,
            "resolved_how": fault.resolved_how,
            "closed": to_iso(fault.closed, timezone),
            "note": fault.note,
            "recurring": fault.recurring_of is not None,
            "recurrence_of": fault.recurring_of,
            "absorbed_into": fault.absorbed_into,
            "affected": len(fault.affected),
        }
    )
    return body


def fault_dict(fault: Fault) -> dict[str, Any]:
    return asdict(fault)
