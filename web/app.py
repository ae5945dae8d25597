"""The console's aiohttp application: the route table with each route's role, sessions, CSRF, headers.

Every route is declared once in ``ROUTES`` with the least role that may use it ("public" for
the login page and the style sheet); the auth middleware enforces it, and a test fails when a
route of the app is missing from the table.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from web import accounts, actions, pages, records
from web.context import CONSOLE, LANG, LOGIN_CSRF, ROLES, SESSION, SET_LANG, USER, Console, console
from web.i18n import LANGUAGES, translate

log = logging.getLogger("yunwei.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SESSION_COOKIE = "yunwei_session"
LOGIN_COOKIE = "yunwei_login"
LANG_COOKIE = "yunwei_lang"
ADDRESS_FAILURES = 20  # failed logins from one address within ADDRESS_WINDOW before it is refused outright
ADDRESS_WINDOW = 600.0
STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
    " frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


ROLES_ALLOWED = ("public", "viewer", "engineer", "admin")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    role: str  # public, viewer, engineer, admin


# -- middlewares ---------------------------------------------------------------------------


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if console(request).tls:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if isinstance(response, web.HTTPException) and response.status >= 300:
        raise response
    return response


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    app = console(request)
    role = request.app[ROLES].get(id(request.match_info.route), "public")
    _language(request, app)
    token = request.cookies.get(SESSION_COOKIE)
    session = await app.run(accounts.find_session, app.accounts, token) if token else None
    if session is not None:
        request[SESSION], request[USER] = session, session.user
        if request.get(SET_LANG):  # ?lang= while logged in is also the user's setting on every device
            await app.run(app.accounts.set_language, session.user.name, request[LANG])
        if "lang" not in request.query and LANG_COOKIE not in request.cookies:
            preferred = await app.run(app.accounts.language, session.user.name)
            request[LANG] = preferred or request[LANG]
    if role != "public":
        if session is None:
            if request.method == "GET" and request.path != "/events":
                raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs)}")
            raise web.HTTPUnauthorized(text="log in first")
        if not session.user.can(role):
            await app.audit(request, "denied", request.path, method=request.method, needs=role)
            return app.render(request, "error.html", status=403, message=translate(request[LANG], "forbidden"))
        if request.method == "POST":
            form = await request.post()
            sent = str(form.get("csrf") or request.headers.get("X-CSRF-Token") or "")
            if not hmac.compare_digest(sent.encode(), session.csrf.encode()):
                await app.audit(request, "csrf_refused", request.path)
                return app.render(request, "error.html", status=403, message=translate(request[LANG], "csrf"))
    response = await handler(request)
    if request.get(SET_LANG):
        response.set_cookie(LANG_COOKIE, request[LANG], max_age=365 * 86400, httponly=True, samesite="Strict",
                            secure=app.tls, path="/")
    return response


def _language(request: web.Request, app: Console) -> None:
    asked = request.query.get("lang")
    if asked in LANGUAGES:
        request[LANG], request[SET_LANG] = asked, True
    else:
        cookie = request.cookies.get(LANG_COOKIE)
        request[LANG] = cookie if cookie in LANGUAGES else app.inventory.agent.language


# -- login and logout --------------------------------------------------------------------------


async def login_page(request: web.Request) -> web.StreamResponse:
    app = console(request)
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    request[LOGIN_CSRF] = token
    error = request.query.get("error")
    message = translate(request[LANG], error) if error in ("login_failed", "login_locked", "too_many") else ""
    response = app.render(request, "login.html", next=_safe_next(request.query.get("next")), error=message)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="Strict", secure=app.tls, path="/login")
    return response


async def login_post(request: web.Request) -> web.StreamResponse:
    app = console(request)
    form = await request.post()
    target = _safe_next(str(form.get("next") or "/"))
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not hmac.compare_digest(str(form.get("csrf", "")).encode(), cookie.encode()):
        return app.render(request, "error.html", status=403, message=translate(request[LANG], "csrf"))
    address = request.remote or ""
    recent = app.failures[address]
    now = time.time()
    while recent and recent[0] < now - ADDRESS_WINDOW:
        recent.popleft()
    name = str(form.get("user", "")).strip()
    if len(recent) >= ADDRESS_FAILURES:
        await app.audit(request, "login.throttled", name, actor=name or "-")
        raise web.HTTPSeeOther(f"/login?error=too_many&next={quote(target)}")
    settings = app.settings
    try:
        user = await app.run(accounts.authenticate, app.accounts, name, str(form.get("password", "")),
                             settings.max_failures, settings.lockout_minutes * 60)
    except accounts.LoginRefused as refused:
        recent.append(now)
        await app.audit(request, "login.failed", name, actor=name or "-", locked=refused.locked)
        error = "login_locked" if refused.locked else "login_failed"
        raise web.HTTPSeeOther(f"/login?error={error}&next={quote(target)}") from None
    token, session = await app.run(accounts.new_session, app.accounts, user, settings.session_hours, address)
    request[USER] = user
    await app.audit(request, "login", user.name)
    response = web.HTTPSeeOther(target)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict", secure=app.tls, path="/",
                        max_age=int(settings.session_hours * 3600))
    response.del_cookie(LOGIN_COOKIE, path="/login")
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    app = console(request)
    await app.run(app.accounts.end_session, request[SESSION].token_hash)
    await app.audit(request, "logout", request[USER].name)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def _safe_next(target: str | None) -> str:
    """Only a path on this console (never //evil.example or https://...)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in ("style.css", "app.js"):
        raise web.HTTPNotFound()
    kind = "text/css" if name.endswith(".css") else "text/javascript"
    return web.Response(body=(STATIC / name).read_bytes(), content_type=kind, charset="utf-8",
                        headers={"Cache-Control": "max-age=300"})


async def events(request: web.Request) -> web.StreamResponse:
    return await console(request).broker.stream(request)


def routes() -> list[Route]:
    return [
        Route("GET", "/login", login_page, "public"),
        Route("POST", "/login", login_post, "public"),
        Route("GET", "/static/{name}", static, "public"),
        Route("POST", "/logout", logout, "viewer"),
        Route("GET", "/events", events, "viewer"),
        Route("GET", "/", pages.overview, "viewer"),
        Route("GET", "/bigscreen", pages.bigscreen, "viewer"),
        Route("GET", "/faults", pages.faults, "viewer"),
        Route("GET", "/faults/{id}", pages.fault, "viewer"),
        Route("GET", "/devices", pages.devices, "viewer"),
        Route("GET", "/devices/{id}", pages.device, "viewer"),
        Route("GET", "/devices/{id}/rtt.svg", pages.rtt_chart, "viewer"),
        Route("GET", "/devices/{id}/chart/{chart}.svg", pages.metric_chart, "viewer"),
        Route("GET", "/topology", pages.topology, "viewer"),
        Route("GET", "/maintenance", pages.maintenance, "viewer"),
        Route("GET", "/audit", pages.audit_page, "admin"),
        Route("GET", "/records", records.records_page, "viewer"),
        Route("GET", "/evidence/{sha}", records.evidence, "viewer"),
        Route("GET", "/reports", records.report, "viewer"),
        Route("POST", "/records", records.add_record, "engineer"),
        Route("POST", "/faults/{id}/ack", actions.acknowledge, "engineer"),
        Route("POST", "/faults/{id}/note", actions.note, "engineer"),
        Route("POST", "/faults/{id}/resolve", actions.resolve, "engineer"),
        Route("POST", "/faults-bulk/ack", actions.bulk_acknowledge, "engineer"),
        Route("POST", "/faults-new", actions.work_order, "engineer"),
        Route("POST", "/maintenance", actions.add_window, "engineer"),
        Route("POST", "/maintenance/{id}/end", actions.end_window, "engineer"),
    ]


def create_app(app_console: Console) -> web.Application:
    app = web.Application(middlewares=[headers_middleware, auth_middleware], client_max_size=records.MAX_EVIDENCE + 1024 * 1024)
    app[CONSOLE] = app_console
    roles: dict[int, str] = {}
    for route in routes():
        registered = app.router.add_route(route.method, route.path, route.handler)
        roles[id(registered)] = route.role
    app[ROLES] = roles
    return app
