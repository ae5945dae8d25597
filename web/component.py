"""The console inside the running agent: aiohttp's AppRunner on the agent's own event loop.

aiohttp.web rather than a separate server process: the agent is already one asyncio loop, so
the console shares it (no second process, no IPC), reads the store through its own SQLite
connection in a small thread pool (never the agent's writer thread, so a busy console does not
delay a round) and is told of each round directly, which it passes on to the pages as SSE.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import TYPE_CHECKING

from aiohttp import web

from inventory.config import Inventory
from store.accounts import Accounts
from store.db import Store, open_store
from web.app import create_app
from web.context import Console

if TYPE_CHECKING:
    from agent.runtime import Agent, RoundResult

log = logging.getLogger("yunwei.web")


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


class WebComponent:
    """The agent component (see agent.runtime.Component)."""

    def __init__(self) -> None:
        self.store: Store | None = None
        self.console: Console | None = None
        self.runner: web.AppRunner | None = None
        self.url: str | None = None
        self.refreshing: set[asyncio.Task[None]] = set()

    async def start(self, agent: Agent) -> None:
        settings = agent.inventory.config.web
        self.store = open_store(agent.inventory.data_dir)
        if not Accounts(self.store).has_enabled_user():
            log.info("web console not started: no user yet (create the first admin with `yunwei user add NAME --role admin`)")
            return
        context = tls_context(settings.tls.cert, settings.tls.key) if settings.tls else None
        if context is None and not settings.loopback:
            log.warning("web console listens on %s WITHOUT TLS (allow_cleartext_remote: true): passwords and sessions "
                        "cross the network in clear text", settings.listen)
        self.console = Console(self.store, agent.inventory, tls=context is not None)
        fleet = agent.fleet
        self.console.data.latest = lambda: list(fleet.latest.copy().values())  # no store read per page
        self.runner = web.AppRunner(create_app(self.console), access_log=None, shutdown_timeout=2.0)
        await self.runner.setup()
        site = web.TCPSite(self.runner, settings.host, settings.port, ssl_context=context, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            log.error("web console cannot listen on %s: %s (the agent goes on without it)", settings.listen, exc)
            await self.runner.cleanup()
            self.runner = None
            return
        port = site._server.sockets[0].getsockname()[1] if site._server and site._server.sockets else settings.port  # type: ignore[union-attr]
        host = settings.host if ":" not in settings.host else f"[{settings.host}]"
        self.url = f"{'https' if context else 'http'}://{host}:{port}"
        log.info("web console at %s", self.url)

    async def on_round(self, result: RoundResult) -> None:
        """Take the new snapshot once, off the round's path, then tell the pages (they re-fetch a warm cache)."""
        if self.console is not None:
            self.console.data.invalidate()
            if not self.console.broker.clients:  # nobody is watching: the next page view takes the snapshot
                return
            task = asyncio.create_task(self._refresh(result))
            self.refreshing.add(task)
            task.add_done_callback(self.refreshing.discard)

    async def _refresh(self, result: RoundResult) -> None:
        assert self.console is not None
        try:
            await self.console.run(self.console.data.snapshot)
        except Exception:
            log.exception("web console: the fleet snapshot failed")
        self.console.broker.publish("round", {"collector": result.collector, "at": result.finished,
                                              "transitions": len(result.transitions)})

    async def on_reload(self, inventory: Inventory) -> None:
        if self.console is not None:
            if inventory.config.web.listen != self.console.settings.listen:
                log.warning("web.listen changed: the console keeps its address until the agent restarts")
            self.console.reload(inventory)

    async def stop(self) -> None:
        if self.console is not None:
            self.console.broker.close()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        if self.console is not None:
            self.console.readers.shutdown(wait=True)
        if self.store is not None:
            self.store.close()
            self.store = None
