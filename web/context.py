"""The console's shared context: data adapter, store, settings, templates and the live broker."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from aiohttp import web

from inventory.config import Inventory
from store.accounts import Accounts
from store.audit import AuditTrail
from store.db import Store
from web import accounts, audit
from web.config import WebConfig
from web.data import FleetData
from web.i18n import translate
from web.live import Broker

T = TypeVar("T")
PARTIAL_SECONDS = 2.0
TEMPLATES = Path(__file__).parent / "templates"


class Console:
    """What every handler needs: the data adapter, the store and its accounts and audit trail, the settings,
    the templates, the live broker."""

    def __init__(self, store: Store, inventory: Inventory, tls: bool = False) -> None:
        self.store = store
        self.accounts = Accounts(store)
        self.audit_trail = AuditTrail(store)
        self.inventory = inventory
        self.data = FleetData(store, inventory)
        self.tls = tls
        self.broker = Broker()
        self.readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="yunwei-web")
        self.failures: dict[str, deque[float]] = defaultdict(deque)
        self._partials: dict[tuple[str, str, str], tuple[float, str]] = {}
        self._partials_generation = -1
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined,
            trim_blocks=True, lstrip_blocks=True,
        )
        self.templates.filters["when"] = self._when
        self.templates.filters["pct"] = lambda v: "-" if v is None else f"{v * 100:.1f}%"

    def _when(self, epoch: float | None, pattern: str = "%m-%d %H:%M") -> str:
        return "-" if epoch is None else datetime.fromtimestamp(epoch, self.data.zone).strftime(pattern)

    @property
    def settings(self) -> WebConfig:
        return self.inventory.config.web

    def reload(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.data.reload(inventory)

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """A store call off the event loop (the console's own connection, never the agent's writer)."""
        return await asyncio.get_running_loop().run_in_executor(self.readers, function, *args)

    async def audit(self, request: web.Request, action: str, target: str = "", **detail: Any) -> None:
        user = request.get(USER)
        actor = user.name if user is not None else str(detail.pop("actor", "-"))
        await self.run(audit.record, self.audit_trail, actor, action, target, request.remote or "", detail)

    async def live_part(self, request: web.Request, build: Callable[[], Awaitable[web.Response]]) -> web.Response:
        """A page's live part (``?partial=1``), rendered once per fleet snapshot for everyone who
        sees the same thing (path, language, role): 50 open pages re-fetching after a round cost one render."""
        if request.query.get("partial") != "1":
            return await build()
        user = request.get(USER)
        key = (request.path_qs, request.get(LANG, "zh"), user.role if user else "")
        if self._partials_generation != self.data.generation:
            self._partials.clear()
            self._partials_generation = self.data.generation
        hit = self._partials.get(key)
        if hit is not None and time.time() - hit[0] < PARTIAL_SECONDS:
            return web.Response(text=hit[1], content_type="text/html", charset="utf-8")
        response = await build()
        if response.status == 200 and response.text is not None:
            self._partials[key] = (time.time(), response.text)
        return response

    def render(self, request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
        context.setdefault("error", "")
        context.setdefault("done", "")
        language = request.get(LANG, "zh")
        session = request.get(SESSION)
        text = self.templates.get_template(template).render(
            t=lambda key, **v: translate(language, key, **v), lang=language, user=request.get(USER),
            csrf=session.csrf if session else request.get(LOGIN_CSRF, ""), path=request.path,
            query=request.query_string, now=time.time(), zone=self.data.zone, settings=self.settings,
            partial=request.query.get("partial") == "1", title=translate(language, "title"), **context,
        )
        return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


CONSOLE = web.AppKey("console", Console)
ROLES = web.AppKey("roles", dict[int, str])
LANG = web.RequestKey("lang", str)
SET_LANG = web.RequestKey("set_lang", bool)
SESSION = web.RequestKey("session", accounts.Session)
USER = web.RequestKey("user", accounts.User)
LOGIN_CSRF = web.RequestKey("login_csrf", str)


def console(request: web.Request) -> Console:
    return request.app[CONSOLE]
