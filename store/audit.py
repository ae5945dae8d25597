"""The audit chain's table (``web_audit``, created by the ``web`` component's migration in
``store.accounts``): rows only. What a row's hash covers, and checking the chain, live in ``web.audit``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from store.accounts import COMPONENT, MIGRATIONS
from store.db import Store

_COLUMNS = "id, at, actor, address, action, target, detail, prev, hash"


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: float
    actor: str
    address: str
    action: str
    target: str
    detail: str  # JSON text, as hashed
    prev: str
    hash: str


class AuditTrail:
    """Append-only rows, each linked to the one before it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate(COMPONENT, MIGRATIONS)

    def append(self, seal: Callable[[int, str | None], AuditRow]) -> AuditRow:
        """Insert the row ``seal(next id, hash of the last row or None)`` returns, in one transaction
        with reading the chain's head, so two writers (the console, ``yunwei user``) never fork it."""
        with self.store.transaction() as db:
            head = db.execute("SELECT id, hash FROM web_audit ORDER BY id DESC LIMIT 1").fetchone()
            row = seal((head[0] if head else 0) + 1, head[1] if head else None)
            db.execute(
                f"INSERT INTO web_audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row.id, row.at, row.actor, row.address, row.action, row.target, row.detail, row.prev, row.hash),
            )
        return row

    def rows(self, last: int | None = None) -> list[AuditRow]:
        """All rows in id order, or only the ``last`` ones."""
        query = f"SELECT {_COLUMNS} FROM web_audit ORDER BY id"
        if last is not None:
            query = f"SELECT * FROM ({query} DESC LIMIT {int(last)}) ORDER BY id"
        with self.store._lock:
            found = self.store.db.execute(query).fetchall()
        return [AuditRow(*row) for row in found]
