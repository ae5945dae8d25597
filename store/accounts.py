"""The console's accounts and sessions (component ``web``): rows only.

Hashing passwords, the lock-out rule and the session tokens live in ``web.accounts``; this
repository stores what it decided. The ``web`` component's migration also creates the audit
chain's table, which ``store.audit`` reads and appends to.
"""

from __future__ import annotations

from dataclasses import dataclass

from store.db import Store

COMPONENT = "web"
MIGRATIONS = [
    """
    CREATE TABLE web_users (
        name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL, changed REAL NOT NULL, failures INTEGER NOT NULL DEFAULT 0,
        locked_until REAL NOT NULL DEFAULT 0, last_login REAL, language TEXT
    );
    CREATE TABLE web_sessions (
        token_hash TEXT PRIMARY KEY, user TEXT NOT NULL, csrf TEXT NOT NULL, created REAL NOT NULL,
        expires REAL NOT NULL, address TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX web_sessions_user ON web_sessions (user);
    CREATE TABLE web_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, actor TEXT NOT NULL, address TEXT NOT NULL,
        action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL
    )
    """,
]


@dataclass(frozen=True)
class UserRecord:
    name: str
    role: str
    disabled: bool
    created: float
    last_login: float | None
    locked_until: float


@dataclass(frozen=True)
class Credentials:
    """What a login is checked against."""

    hash: str
    disabled: bool
    failures: int  # failed logins in a row
    locked_until: float


@dataclass(frozen=True)
class SessionRecord:
    user: UserRecord
    csrf: str
    expires: float


_USER_COLUMNS = "name, role, disabled, created, last_login, locked_until"


def _user(row: tuple) -> UserRecord:  # type: ignore[type-arg]
    name, role, disabled, created, last_login, locked_until = row
    return UserRecord(name, role, bool(disabled), created, last_login, locked_until)


class Accounts:
    """The ``web_users`` and ``web_sessions`` tables."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate(COMPONENT, MIGRATIONS)

    # -- users ------------------------------------------------------------------------

    def user(self, name: str) -> UserRecord | None:
        with self.store._lock:
            row = self.store.db.execute(f"SELECT {_USER_COLUMNS} FROM web_users WHERE name = ?", (name,)).fetchone()
        return _user(row) if row else None

    def users(self) -> list[UserRecord]:
        with self.store._lock:
            rows = self.store.db.execute(f"SELECT {_USER_COLUMNS} FROM web_users ORDER BY name").fetchall()
        return [_user(r) for r in rows]

    def has_enabled_user(self) -> bool:
        with self.store._lock:
            return self.store.db.execute("SELECT 1 FROM web_users WHERE disabled = 0 LIMIT 1").fetchone() is not None

    def add_user(self, name: str, role: str, password_hash: str, now: float) -> UserRecord | None:
        """The new user; None (and nothing written) when the name is taken."""
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM web_users WHERE name = ?", (name,)).fetchone():
                return None
            db.execute(
                "INSERT INTO web_users (name, role, hash, created, changed) VALUES (?, ?, ?, ?, ?)",
                (name, role, password_hash, now, now),
            )
            return _user(db.execute(f"SELECT {_USER_COLUMNS} FROM web_users WHERE name = ?", (name,)).fetchone())

    def set_password(self, name: str, password_hash: str, now: float) -> bool:
        """The new hash, the failures and the lock cleared, the user's sessions ended; False when no such user."""
        with self.store.transaction() as db:
            changed = db.execute(
                "UPDATE web_users SET hash = ?, changed = ?, failures = 0, locked_until = 0 WHERE name = ?",
                (password_hash, now, name),
            ).rowcount
            if changed:
                db.execute("DELETE FROM web_sessions WHERE user = ?", (name,))
            return bool(changed)

    def set_disabled(self, name: str, disabled: bool) -> bool:
        """Disabling also ends the user's sessions; False when no such user."""
        with self.store.transaction() as db:
            if not db.execute("UPDATE web_users SET disabled = ? WHERE name = ?", (int(disabled), name)).rowcount:
                return False
            if disabled:
                db.execute("DELETE FROM web_sessions WHERE user = ?", (name,))
            return True

    def set_language(self, name: str, language: str) -> None:
        with self.store.transaction() as db:
            db.execute("UPDATE web_users SET language = ? WHERE name = ?", (language, name))

    def language(self, name: str) -> str | None:
        with self.store._lock:
            row = self.store.db.execute("SELECT language FROM web_users WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    # -- logins -----------------------------------------------------------------------

    def credentials(self, name: str) -> Credentials | None:
        with self.store._lock:
            row = self.store.db.execute(
                "SELECT hash, disabled, failures, locked_until FROM web_users WHERE name = ?", (name,)
            ).fetchone()
        return Credentials(row[0], bool(row[1]), int(row[2]), float(row[3])) if row else None

    def record_failure(self, name: str, failures: int, locked_until: float) -> None:
        with self.store.transaction() as db:
            db.execute("UPDATE web_users SET failures = ?, locked_until = ? WHERE name = ?", (failures, locked_until, name))

    def record_login(self, name: str, now: float, new_hash: str | None = None) -> UserRecord | None:
        """A good login: failures and lock cleared, ``last_login`` set, the hash replaced when given; the user after it."""
        with self.store.transaction() as db:
            db.execute("UPDATE web_users SET failures = 0, locked_until = 0, last_login = ? WHERE name = ?", (now, name))
            if new_hash is not None:
                db.execute("UPDATE web_users SET hash = ? WHERE name = ?", (new_hash, name))
            row = db.execute(f"SELECT {_USER_COLUMNS} FROM web_users WHERE name = ?", (name,)).fetchone()
        return _user(row) if row else None

    # -- sessions ---------------------------------------------------------------------

    def add_session(self, token_hash: str, user: str, csrf: str, now: float, expires: float, address: str) -> None:
        """Also drops the sessions expired by ``now``."""
        with self.store.transaction() as db:
            db.execute("DELETE FROM web_sessions WHERE expires <= ?", (now,))
            db.execute(
                "INSERT INTO web_sessions (token_hash, user, csrf, created, expires, address) VALUES (?, ?, ?, ?, ?, ?)",
                (token_hash, user, csrf, now, expires, address),
            )

    def session(self, token_hash: str) -> SessionRecord | None:
        """The session and its user as they are now (None when the token or its user is unknown)."""
        columns = ", ".join(f"u.{c.strip()}" for c in _USER_COLUMNS.split(","))
        with self.store._lock:
            row = self.store.db.execute(
                f"SELECT s.csrf, s.expires, {columns} FROM web_sessions s JOIN web_users u ON u.name = s.user"
                " WHERE s.token_hash = ?",
                (token_hash,),
            ).fetchone()
        return SessionRecord(_user(row[2:]), row[0], row[1]) if row else None

    def end_session(self, token_hash: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM web_sessions WHERE token_hash = ?", (token_hash,))
