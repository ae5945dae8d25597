"""The audit trail's entries for what the command line changes.

The console writes an entry for every action a user takes there (web.context); the same actions
taken from a shell (``yunwei faults ack``, ``yunwei record``, ``yunwei user`` ...) go through
here to the same chain (web.audit.record), so the customer's trail has no holes. A CLI entry's
address is ``local`` and its detail says ``"via": "cli"`` and which operating-system account
typed the command (``login``): a name given with ``--by`` is the engineer who signs, the login is
who was at the keyboard.
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from store.audit import AuditTrail
from store.db import Store
from web import audit

ADDRESS = "local"


def login() -> str:
    """The operating-system account running this command."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def operator() -> str:
    """The actor of a command that takes no name: ``cli:`` and $YUNWEI_USER, else the login."""
    return "cli:" + (os.environ.get("YUNWEI_USER") or login())


def record(store: Store, actor: str, action: str, target: str, **detail: Any) -> None:
    """Append one entry for an action this command has just done (never for one it refused)."""
    given = {key: value for key, value in detail.items() if value not in (None, "")}
    audit.record(AuditTrail(store), actor, action, target, ADDRESS, {"via": "cli", "login": login(), **given})
