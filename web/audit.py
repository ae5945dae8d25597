"""The tamper-evident audit trail: who did what, when, from which address.

Each entry carries the SHA-256 of the entry before it (``prev``) and its own hash over its
fields and ``prev``; editing, deleting or inserting a row breaks the chain from there on, and
``yunwei audit verify`` names the first entry where it breaks.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from store.db import Store

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: float
    actor: str
    address: str
    action: str
    target: str
    detail: dict[str, Any]
    prev: str
    hash: str


def _hash(prev: str, id_: int, at: float, actor: str, address: str, action: str, target: str, detail: str) -> str:
    canonical = json.dumps([prev, id_, repr(at), actor, address, action, target, detail], ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(
    store: Store, actor: str, action: str, target: str = "", address: str = "", detail: dict[str, Any] | None = None,
    now: float | None = None,
) -> AuditEntry:
    """Append one entry (in one transaction with reading the chain's head)."""
    at = time.time() if now is None else now
    text = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    with store.transaction() as db:
        row = db.execute("SELECT id, hash FROM web_audit ORDER BY id DESC LIMIT 1").fetchone()
        prev = row[1] if row else GENESIS
        id_ = (row[0] if row else 0) + 1
        digest = _hash(prev, id_, at, actor, address, action, target, text)
        db.execute(
            "INSERT INTO web_audit (id, at, actor, address, action, target, detail, prev, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (id_, at, actor, address, action, target, text, prev, digest),
        )
    return AuditEntry(id_, at, actor, address, action, target, detail or {}, prev, digest)


def entries(store: Store, limit: int | None = None) -> list[AuditEntry]:
    query = "SELECT id, at, actor, address, action, target, detail, prev, hash FROM web_audit ORDER BY id"
    if limit is not None:
        query = f"SELECT * FROM ({query} DESC LIMIT {int(limit)}) ORDER BY id"
    with store._lock:
        rows = store.db.execute(query).fetchall()
    return [AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7], r[8]) for r in rows]


@dataclass(frozen=True)
class Verdict:
    entries: int
    broken_at: int | None  # the id of the first entry that does not check out
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(store: Store) -> Verdict:
    with store._lock:
        rows = store.db.execute(
            "SELECT id, at, actor, address, action, target, detail, prev, hash FROM web_audit ORDER BY id"
        ).fetchall()
    prev, expected_id = GENESIS, 1
    for id_, at, actor, address, action, target, detail, row_prev, row_hash in rows:
        if id_ != expected_id:
            return Verdict(len(rows), id_, f"entry {expected_id} is missing (entries {expected_id}..{id_ - 1} deleted)")
        if row_prev != prev:
            return Verdict(len(rows), id_, "its link to the entry before does not match (an entry was changed or removed)")
        if _hash(row_prev, id_, at, actor, address, action, target, detail) != row_hash:
            return Verdict(len(rows), id_, "its content does not match its hash (the entry was edited)")
        prev, expected_id = row_hash, id_ + 1
    return Verdict(len(rows), None)
