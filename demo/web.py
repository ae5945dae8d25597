"""Demo part: the web console. A fresh demo account (random password, printed once) and the
console's address: 127.0.0.1:8470, or a free port when that one is taken."""

from __future__ import annotations

import secrets
import socket

from demo.fleet import DemoContext, DemoFleet
from store.accounts import Accounts
from store.db import open_store
from web import accounts

DEMO_USER = "demo"
PREFERRED_PORT = 8470


def _free_port() -> int:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", PREFERRED_PORT))
            return PREFERRED_PORT
        except OSError:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])


class WebDemoPart:
    async def start(self, ctx: DemoContext) -> DemoFleet:
        password = secrets.token_urlsafe(12)
        with open_store(ctx.data_dir) as store:  # the demo's own store, made here first
            users = Accounts(store)
            if accounts.get_user(users, DEMO_USER) is None:
                accounts.add_user(users, DEMO_USER, "admin", password)
            else:
                accounts.set_password(users, DEMO_USER, password)
        port = _free_port()
        fleet = DemoFleet(sections={"web": {"listen": f"127.0.0.1:{port}"}})
        fleet.notes.append(f"web console: http://127.0.0.1:{port}/  login: {DEMO_USER} / {password}")
        return fleet

    async def stop(self) -> None:
        return None


def part() -> WebDemoPart:
    return WebDemoPart()
