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

from store.audit import AuditRow, AuditTrail

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

    @property
    def origin(self) -> str:
        """Where the action came from: the browser's address, or ``cli (login)`` for a command typed in a
        shell (cli.audited; entries written before it say only the address ``local``)."""
        if self.detail.get("via") == "cli" or self.address == "local":
            login = self.detail.get("login")
            return f"cli ({login})" if login else "cli"
        return self.address

    @property
    def remarks(self) -> dict[str, Any]:
        """The detail without what ``origin`` already shows."""
        return {k: v for k, v in self.detail.items() if k not in ("via", "login")}


def _hash(prev: str, id_: int, at: float, actor: str, address: str, action: str, target: str, detail: str) -> str:
    canonical = json.dumps([prev, id_, repr(at), actor, address, action, target, detail], ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(
    trail: AuditTrail, actor: str, action: str, target: str = "", address: str = "", detail: dict[str, Any] | None = None,
    now: float | None = None,
) -> AuditEntry:
    """Append one entry, linked to the chain's head as it is when the entry is written."""
    at = time.time() if now is None else now
    text = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def seal(id_: int, head: str | None) -> AuditRow:
        prev = GENESIS if head is None else head
        return AuditRow(id_, at, actor, address, action, target, text, prev,
                        _hash(prev, id_, at, actor, address, action, target, text))

    row = trail.append(seal)
    return AuditEntry(row.id, at, actor, address, action, target, detail or {}, row.prev, row.hash)


def entries(trail: AuditTrail, limit: int | None = None) -> list[AuditEntry]:
    return [AuditEntry(r.id, r.at, r.actor, r.address, r.action, r.target, json.loads(r.detail), r.prev, r.hash)
            for r in trail.rows(limit)]


@dataclass(frozen=True)
class Verdict:
    entries: int
    broken_at: int | None  # the id of the first entry that does not check out
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(trail: AuditTrail) -> Verdict:
    rows = trail.rows()
    prev, expected_id = GENESIS, 1
    for row in rows:
        id_, row_prev, row_hash = row.id, row.prev, row.hash
        if id_ != expected_id:
            return Verdict(len(rows), id_, f"entry {expected_id} is missing (entries {expected_id}..{id_ - 1} deleted)")
        if row_prev != prev:
            return Verdict(len(rows), id_, "its link to the entry before does not match (an entry was changed or removed)")
        if _hash(row_prev, id_, row.at, row.actor, row.address, row.action, row.target, row.detail) != row_hash:
            return Verdict(len(rows), id_, "its content does not match its hash (the entry was edited)")
        prev, expected_id = row_hash, id_ + 1
    return Verdict(len(rows), None)
