"""Local accounts and sessions of the console, kept in the agent's store (``store.accounts``).

Passwords are hashed with argon2id (argon2-cffi). A session is a random token in an HttpOnly
cookie; the store keeps only its SHA-256, with the user, the CSRF token and the expiry.
A user's failed logins in a row are counted in the store: past ``max_failures`` the account is
locked for ``lockout_minutes`` (a correct password is refused while it is locked).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import astuple, dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import InputError
from store.accounts import Accounts, UserRecord

ROLES = ("viewer", "engineer", "admin")
RANK = {role: rank for rank, role in enumerate(ROLES)}
MIN_PASSWORD = 10

_hasher = PasswordHasher()


@dataclass(frozen=True)
class User(UserRecord):
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


def _user(record: UserRecord | None) -> User | None:
    return User(*astuple(record)) if record is not None else None


def get_user(accounts: Accounts, name: str) -> User | None:
    return _user(accounts.user(name))


def list_users(accounts: Accounts) -> list[User]:
    return [User(*astuple(record)) for record in accounts.users()]


def add_user(accounts: Accounts, name: str, role: str, password: str, now: float | None = None) -> User:
    _check_name(name)
    if role not in ROLES:
        raise InputError.single("yunwei user add", f"role {role!r}: one of {', '.join(ROLES)}")
    check_password(password)
    user = _user(accounts.add_user(name, role, _hasher.hash(password), time.time() if now is None else now))
    if user is None:
        raise InputError.single("yunwei user add", f"user {name!r} exists (yunwei user passwd changes the password)")
    return user


def set_password(accounts: Accounts, name: str, password: str, now: float | None = None) -> None:
    """A new password also unlocks the account and ends its sessions."""
    check_password(password)
    if not accounts.set_password(name, _hasher.hash(password), time.time() if now is None else now):
        raise InputError.single("yunwei user passwd", f"no user {name!r} (see yunwei user list)")


def set_disabled(accounts: Accounts, name: str, disabled: bool = True) -> None:
    if not accounts.set_disabled(name, disabled):
        raise InputError.single("yunwei user disable", f"no user {name!r} (see yunwei user list)")


def authenticate(
    accounts: Accounts, name: str, password: str, max_failures: int, lockout_seconds: float, now: float | None = None
) -> User:
    """The user when the password is right and the account usable; else LoginRefused (and a failure counted)."""
    now = time.time() if now is None else now
    found = accounts.credentials(name)
    if found is None:
        _hasher.hash(password)  # the same work as a real check, so timing does not tell names apart
        raise LoginRefused()
    if found.locked_until > now:
        raise LoginRefused(locked=True)
    try:
        ok = _hasher.verify(found.hash, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or found.disabled:
        failures = found.failures + 1
        lock = now + lockout_seconds if failures >= max_failures else 0.0
        accounts.record_failure(name, 0 if lock else failures, lock)
        raise LoginRefused(locked=bool(lock))
    new_hash = _hasher.hash(password) if _hasher.check_needs_rehash(found.hash) else None
    user = _user(accounts.record_login(name, now, new_hash))
    assert user is not None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session(accounts: Accounts, user: User, hours: float, address: str, now: float | None = None) -> tuple[str, Session]:
    """(the cookie's token, the session)."""
    now = time.time() if now is None else now
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + hours * 3600
    accounts.add_session(_digest(token), user.name, csrf, now, expires, address)
    return token, Session(user, csrf, expires, _digest(token))


def find_session(accounts: Accounts, token: str, now: float | None = None) -> Session | None:
    """The live session of a cookie token (None when unknown, expired, or its user is disabled)."""
    now = time.time() if now is None else now
    found = accounts.session(_digest(token))
    if found is None or found.expires <= now or found.user.disabled:
        return None
    return Session(User(*astuple(found.user)), found.csrf, found.expires, _digest(token))
