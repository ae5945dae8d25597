"""Local accounts and sessions of the console, kept in the agent's store (component ``web``).

Passwords are hashed with argon2id (argon2-cffi). A session is a random token in an HttpOnly
cookie; the store keeps only its SHA-256, with the user, the CSRF token and the expiry.
A user's failed logins in a row are counted in the store: past ``max_failures`` the account is
locked for ``lockout_minutes`` (a correct password is refused while it is locked).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import InputError
from store.db import Store

ROLES = ("viewer", "engineer", "admin")
RANK = {role: rank for rank, role in enumerate(ROLES)}
MIN_PASSWORD = 10

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

_hasher = PasswordHasher()


def prepare(store: Store) -> Store:
    store.migrate("web", MIGRATIONS)
    return store


@dataclass(frozen=True)
class User:
    name: str
    role: str
    disabled: bool
    created: float
    last_login: float | None
    locked_until: float

    def can(self, role: str) -> bool:
        return not self.disabled and RANK[self.role] >= RANK[role]


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires: float
    token_hash: str


class LoginRefused(Exception):
    """Wrong name or password, disabled, or locked: one message, never which of them."""

    def __init__(self, locked: bool = False) -> None:
        super().__init__("locked" if locked else "refused")
        self.locked = locked


def _check_name(name: str) -> None:
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-@" for c in name):
        raise InputError.single("yunwei user", f"user name {name!r}: use letters, digits and . _ - @ (at most 64)")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError.single("yunwei user", f"the password is too short: at least {MIN_PASSWORD} characters")


def _user(row: tuple) -> User:  # type: ignore[type-arg]
    name, role, disabled, created, last_login, locked_until = row
    return User(name, role, bool(disabled), created, last_login, locked_until)


_USER_COLUMNS = "name, role, disabled, created, last_login, locked_until"


def get_user(store: Store, name: str) -> User | None:
    with store._lock:
        row = store.db.execute(f"SELECT {_USER_COLUMNS} FROM web_users WHERE name = ?", (name,)).fetchone()
    return _user(row) if row else None


def list_users(store: Store) -> list[User]:
    with store._lock:
        rows = store.db.execute(f"SELECT {_USER_COLUMNS} FROM web_users ORDER BY name").fetchall()
    return [_user(r) for r in rows]


def has_users(store: Store) -> bool:
    with store._lock:
        return store.db.execute("SELECT 1 FROM web_users WHERE disabled = 0 LIMIT 1").fetchone() is not None


def add_user(store: Store, name: str, role: str, password: str, now: float | None = None) -> User:
    _check_name(name)
    if role not in ROLES:
        raise InputError.single("yunwei user add", f"role {role!r}: one of {', '.join(ROLES)}")
    check_password(password)
    now = time.time() if now is None else now
    hashed = _hasher.hash(password)
    with store.transaction() as db:
        if db.execute("SELECT 1 FROM web_users WHERE name = ?", (name,)).fetchone():
            raise InputError.single("yunwei user add", f"user {name!r} exists (yunwei user passwd changes the password)")
        db.execute(
            "INSERT INTO web_users (name, role, hash, created, changed) VALUES (?, ?, ?, ?, ?)",
            (name, role, hashed, now, now),
        )
    user = get_user(store, name)
    assert user is not None
    return user


def set_password(store: Store, name: str, password: str, now: float | None = None) -> None:
    """A new password also unlocks the account and ends its sessions."""
    check_password(password)
    hashed = _hasher.hash(password)
    with store.transaction() as db:
        changed = db.execute(
            "UPDATE web_users SET hash = ?, changed = ?, failures = 0, locked_until = 0 WHERE name = ?",
            (hashed, time.time() if now is None else now, name),
        ).rowcount
        if not changed:
            raise InputError.single("yunwei user passwd", f"no user {name!r} (see yunwei user list)")
        db.execute("DELETE FROM web_sessions WHERE user = ?", (name,))


def set_disabled(store: Store, name: str, disabled: bool = True) -> None:
    with store.transaction() as db:
        if not db.execute("UPDATE web_users SET disabled = ? WHERE name = ?", (int(disabled), name)).rowcount:
            raise InputError.single("yunwei user disable", f"no user {name!r} (see yunwei user list)")
        if disabled:
            db.execute("DELETE FROM web_sessions WHERE user = ?", (name,))


def set_language(store: Store, name: str, language: str) -> None:
    with store.transaction() as db:
        db.execute("UPDATE web_users SET language = ? WHERE name = ?", (language, name))


def user_language(store: Store, name: str) -> str | None:
    with store._lock:
        row = store.db.execute("SELECT language FROM web_users WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None


def authenticate(
    store: Store, name: str, password: str, max_failures: int, lockout_seconds: float, now: float | None = None
) -> User:
    """The user when the password is right and the account usable; else LoginRefused (and a failure counted)."""
    now = time.time() if now is None else now
    with store._lock:
        row = store.db.execute(
            "SELECT hash, disabled, failures, locked_until FROM web_users WHERE name = ?", (name,)
        ).fetchone()
    if row is None:
        _hasher.hash(password)  # the same work as a real check, so timing does not tell names apart
        raise LoginRefused()
    hashed, disabled, failures, locked_until = row
    if locked_until > now:
        raise LoginRefused(locked=True)
    try:
        ok = _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or disabled:
        failures += 1
        lock = now + lockout_seconds if failures >= max_failures else 0.0
        with store.transaction() as db:
            db.execute(
                "UPDATE web_users SET failures = ?, locked_until = ? WHERE name = ?",
                (0 if lock else failures, lock, name),
            )
        raise LoginRefused(locked=bool(lock))
    with store.transaction() as db:
        db.execute("UPDATE web_users SET failures = 0, locked_until = 0, last_login = ? WHERE name = ?", (now, name))
        if _hasher.check_needs_rehash(hashed):
            db.execute("UPDATE web_users SET hash = ? WHERE name = ?", (_hasher.hash(password), name))
    user = get_user(store, name)
    assert user is not None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session(store: Store, user: User, hours: float, address: str, now: float | None = None) -> tuple[str, Session]:
    """(the cookie's token, the session)."""
    now = time.time() if now is None else now
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + hours * 3600
    with store.transaction() as db:
        db.execute("DELETE FROM web_sessions WHERE expires <= ?", (now,))
        db.execute(
            "INSERT INTO web_sessions (token_hash, user, csrf, created, expires, address) VALUES (?, ?, ?, ?, ?, ?)",
            (_digest(token), user.name, csrf, now, expires, address),
        )
    return token, Session(user, csrf, expires, _digest(token))


def find_session(store: Store, token: str, now: float | None = None) -> Session | None:
    """The live session of a cookie token (None when unknown, expired, or its user is disabled)."""
    now = time.time() if now is None else now
    with store._lock:
        row = store.db.execute(
            "SELECT user, csrf, expires FROM web_sessions WHERE token_hash = ?", (_digest(token),)
        ).fetchone()
    if row is None or row[2] <= now:
        return None
    user = get_user(store, row[0])
    if user is None or user.disabled:
        return None
    return Session(user, row[1], row[2], _digest(token))


def end_session(store: Store, token_hash: str) -> None:
    with store.transaction() as db:
        db.execute("DELETE FROM web_sessions WHERE token_hash = ?", (token_hash,))
