"""The chat outbox's rows: rendered messages (``alert_outbox``) and delivery attempts (``alert_attempts``).

The tables are the ``alerting`` component's (their migrations are ``store.faults.MIGRATIONS``).
When to send, how long to back off and what a platform's answer means is alerting's
(``alerting.outbox``); this class only reads and writes the rows, each change in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from store.db import Store
from store.faults import MIGRATIONS


@dataclass
class OutboxRow:
    id: int
    channel: str
    kind: str
    thread: str
    payload: str
    attempts: int
    next_attempt: float
    state: str
    last_error: str | None
    created: float
    sent: float | None


@dataclass
class NewMessage:
    """A rendered message to queue for one channel."""

    channel: str
    kind: str
    thread: str
    msgkey: str
    created: float
    payload: str
    next_attempt: float


@dataclass
class HeadMessage:
    """The oldest pending message of a channel: the one to send next."""

    id: int
    payload: str
    attempts: int
    next_attempt: float


class OutboxStore:
    """The outbox's rows in the agent's store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate("alerting", MIGRATIONS)

    # -- reading ------------------------------------------------------------------------

    def rows(self, state: str | None = None, limit: int = 500) -> list[OutboxRow]:
        query = "SELECT id, channel, kind, thread, payload, attempts, next_attempt, state, last_error, created, sent FROM alert_outbox"
        params: tuple[object, ...] = ()
        if state is not None:
            query += " WHERE state = ?"
            params = (state,)
        with self.store._lock:
            found = self.store.db.execute(query + " ORDER BY id LIMIT ?", (*params, limit)).fetchall()
        return [OutboxRow(*row) for row in found]

    def channels_pending(self) -> list[str]:
        with self.store._lock:
            return [r[0] for r in self.store.db.execute("SELECT DISTINCT channel FROM alert_outbox WHERE state = 'pending'")]

    def head(self, channel: str) -> HeadMessage | None:
        with self.store._lock:
            row = self.store.db.execute(
                "SELECT id, payload, attempts, next_attempt FROM alert_outbox"
                " WHERE state = 'pending' AND channel = ? ORDER BY id LIMIT 1",
                (channel,),
            ).fetchone()
        return None if row is None else HeadMessage(*row)

    def attempts_in_last_minute(self, channel: str, now: float) -> int:
        with self.store._lock:
            row = self.store.db.execute(
                "SELECT COUNT(*) FROM alert_attempts WHERE channel = ? AND at > ? AND at <= ?", (channel, now - 60, now)
            ).fetchone()
        return int(row[0])

    def spent(self, channel: str, now: float) -> int:
        """The channel's attempts in the last 60 s plus its messages waiting: its rate budget used up."""
        with self.store._lock:
            row = self.store.db.execute(
                "SELECT (SELECT COUNT(*) FROM alert_attempts WHERE channel = ? AND at > ?)"
                " + (SELECT COUNT(*) FROM alert_outbox WHERE channel = ? AND state = 'pending')",
                (channel, now - 60, channel),
            ).fetchone()
        return int(row[0])

    def for_fault(self, fault_id: str) -> list[tuple[str, str, str, float]]:
        """(channel, kind, state, created) of the messages about a fault (alone, or in a listing)."""
        with self.store._lock:
            rows = self.store.db.execute(
                "SELECT channel, kind, state, created FROM alert_outbox"
                " WHERE thread = ? OR instr(thread, ?) > 0 OR instr(msgkey, ?) > 0 ORDER BY id",
                (fault_id, fault_id, fault_id),
            ).fetchall()
        return [(c, k, s, t) for c, k, s, t in rows]

    # -- writing ------------------------------------------------------------------------

    def queue(
        self, messages: Iterable[NewMessage], notice_states: Iterable[tuple[str, int]], marks: Mapping[str, Any]
    ) -> None:
        """In one transaction: the rendered messages in, their notices marked (state, notice id)
        unless already done, and the dispatcher's marks (``alert_kv``) set."""
        with self.store.transaction() as db:
            db.executemany(
                "INSERT INTO alert_outbox (channel, kind, thread, msgkey, created, payload, next_attempt)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(m.channel, m.kind, m.thread, m.msgkey, m.created, m.payload, m.next_attempt) for m in messages],
            )
            db.executemany("UPDATE alert_notices SET state = ? WHERE id = ? AND state = 'pending'", list(notice_states))
            db.executemany(
                "INSERT INTO alert_kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [(k, json.dumps(v)) for k, v in marks.items()],
            )

    def begin_attempt(self, channel: str, message_id: int, now: float) -> int:
        """Log an attempt (it counts against the rate limit from now on); returns its id."""
        with self.store.transaction() as db:
            return int(db.execute(
                "INSERT INTO alert_attempts (channel, message, at) VALUES (?, ?, ?)", (channel, message_id, now)
            ).lastrowid)

    def retry_later(self, message_id: int, next_attempt: float, error: str, failed_attempt: int | None = None) -> None:
        """Keep the message pending until ``next_attempt``; ``failed_attempt`` is marked failed with the same error."""
        with self.store.transaction() as db:
            db.execute(
                "UPDATE alert_outbox SET attempts = attempts + 1, next_attempt = ?, last_error = ? WHERE id = ?",
                (next_attempt, error, message_id),
            )
            if failed_attempt is not None:
                db.execute("UPDATE alert_attempts SET ok = 0, detail = ? WHERE id = ?", (error, failed_attempt))

    def mark_sent(self, message_id: int, sent: float, attempt: int, detail: str) -> None:
        with self.store.transaction() as db:
            db.execute(
                "UPDATE alert_outbox SET state = 'sent', sent = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
                (sent, message_id),
            )
            db.execute("UPDATE alert_attempts SET ok = 1, detail = ? WHERE id = ?", (detail, attempt))

    def prune(self, sent_before: float, attempts_before: float) -> int:
        """Forget messages sent and notices done before ``sent_before``, attempts before
        ``attempts_before``; returns how many messages went."""
        with self.store.transaction() as db:
            removed = int(db.execute("DELETE FROM alert_outbox WHERE state = 'sent' AND sent < ?", (sent_before,)).rowcount)
            db.execute("DELETE FROM alert_attempts WHERE at < ?", (attempts_before,))
            db.execute("DELETE FROM alert_notices WHERE state != 'pending' AND created < ?", (sent_before,))
        return removed
