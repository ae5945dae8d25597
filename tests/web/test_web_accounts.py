"""Accounts, sessions, CSRF, roles and the audit chain of the console (in-process server, real HTTP)."""

from __future__ import annotations

import datetime as dt
import io
import time
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from web_support import CONFIG, CSRF, PASSWORD, add_users, console_client, csrf_of, login, write_config

from agent.runtime import Agent
from alerting import lifecycle
from cli.main import main
from core.errors import InputError
from inventory.config import load_config
from store.accounts import Accounts
from store.audit import AuditTrail
from store.db import open_store
from store.faults import FaultStore
from web import accounts, audit
from web.app import ROLES_ALLOWED, routes
from web.component import WebComponent
from web.context import ROLES


@pytest.fixture
def config_path(tmp_path):
    path = write_config(tmp_path)
    add_users(path)
    return path


async def test_login_with_the_right_password_sets_a_strict_httponly_session(config_path):
    client, _ = await console_client(config_path)
    try:
        response = await login(client, "eng1")
        assert response.status == 303 and response.headers["Location"] == "/"
        cookie = response.headers.getone("Set-Cookie")
        assert "yunwei_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert "Secure" not in cookie  # plain HTTP on loopback
        page = await client.get("/")
        assert page.status == 200 and "eng1" in await page.text()
    finally:
        await client.close()


async def test_session_cookie_is_secure_under_https(config_path):
    client, _ = await console_client(config_path, tls=True)
    try:
        page = await client.get("/login")
        assert "Secure" in page.headers.getone("Set-Cookie")
        token = CSRF.search(await page.text()).group(1)
        # the test client speaks plain HTTP, so it holds back Secure cookies: send the login token by hand
        response = await client.post("/login", data={"csrf": token, "user": "eng1", "password": PASSWORD},
                                     headers={"Cookie": f"yunwei_login={token}"}, allow_redirects=False)
        cookie = response.headers.getone("Set-Cookie")
        assert "yunwei_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    finally:
        await client.close()


async def test_wrong_password_is_refused_and_audited(config_path):
    client, console = await console_client(config_path)
    try:
        response = await login(client, "eng1", "not-the-password")
        assert response.headers["Location"].startswith("/login?error=login_failed")
        page = await client.get("/", allow_redirects=False)
        assert page.status == 303 and page.headers["Location"].startswith("/login")
        assert [e.action for e in audit.entries(console.audit_trail)][-1] == "login.failed"
    finally:
        await client.close()


async def test_repeated_failures_lock_the_account_even_for_the_right_password(config_path):
    client, console = await console_client(config_path)
    try:
        for _ in range(console.settings.max_failures):
            await login(client, "eng1", "wrong-wrong-wrong")
        response = await login(client, "eng1", PASSWORD)
        assert response.headers["Location"].startswith("/login?error=login_locked")
        assert "暂时锁定" in await (await client.get(response.headers["Location"])).text()
        accounts.set_password(console.accounts, "eng1", PASSWORD)  # an admin's passwd unlocks
        assert (await login(client, "eng1", PASSWORD)).headers["Location"] == "/"
    finally:
        await client.close()


async def test_an_expired_session_sends_back_to_the_login_page(config_path):
    client, console = await console_client(config_path)
    try:
        user = accounts.get_user(console.accounts, "eng1")
        token, _ = accounts.new_session(console.accounts, user, hours=1, address="127.0.0.1", now=time.time() - 7200)
        client.session.cookie_jar.update_cookies({"yunwei_session": token})
        response = await client.get("/faults", allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/login?next=/faults"
    finally:
        await client.close()


def test_every_route_declares_a_role():
    """A new route must be added to web.app.routes() with its role, or this fails."""
    table = routes()
    assert len({(r.method, r.path) for r in table}) == len(table)
    for route in table:
        assert route.role in ROLES_ALLOWED, route
    public = {(r.method, r.path) for r in table if r.role == "public"}
    assert public == {("GET", "/login"), ("POST", "/login"), ("GET", "/static/{name}")}
    changing = [r for r in table if r.method == "POST" and r.path not in ("/login", "/logout")]
    assert changing and all(r.role in ("engineer", "admin") for r in changing)


async def test_every_registered_route_is_in_the_role_table(config_path):
    client, _ = await console_client(config_path)
    try:
        app = client.server.app
        for route in app.router.routes():
            assert id(route) in app[ROLES], f"{route.method} {route.resource.canonical} has no role"
    finally:
        await client.close()


async def test_anonymous_and_viewer_are_refused_per_route(config_path):
    client, console = await console_client(config_path)
    inventory = load_config(config_path)
    faults = FaultStore(console.store, inventory.agent.id, inventory.agent.timezone)
    fault = lifecycle.open_manual(faults, inventory, 3, "打印机无法使用", "cli", time.time(), device="sw-1")
    concrete = {"{id}": fault.id, "{name}": "style.css", "{sha}": "0" * 64, "{chart}": "traffic"}
    try:
        for route in routes():
            path = route.path
            for key, value in concrete.items():
                path = path.replace(key, value)
            if route.path.startswith("/maintenance/"):
                path = "/maintenance/1/end"
            response = await client.request(route.method, path, allow_redirects=False)
            if route.role == "public":
                assert response.status in (200, 303, 403), (route, response.status)  # login POST without token: 403
            else:
                assert response.status in (303, 401), (route, response.status)
        await login(client, "viewer1")
        token = await csrf_of(client, "/")
        for route in routes():
            if route.role in ("engineer", "admin"):
                path = route.path.replace("{id}", fault.id if "fault" in route.path else "1")
                response = await client.request(route.method, path, data={"csrf": token, "note": "x", "level": "3",
                                                                          "cause": "x", "device": "sw-1"},
                                                allow_redirects=False)
                assert response.status == 403, (route, response.status)
        assert faults.get(fault.id).acknowledged is None
        assert "denied" in [e.action for e in audit.entries(console.audit_trail)]
    finally:
        await client.close()


async def test_a_post_without_the_csrf_token_is_refused(config_path):
    client, console = await console_client(config_path)
    inventory = load_config(config_path)
    faults = FaultStore(console.store, inventory.agent.id, inventory.agent.timezone)
    fault = lifecycle.open_manual(faults, inventory, 2, "链路中断", "cli", time.time(), device="sw-1")
    try:
        await login(client, "eng1")
        for data in ({}, {"csrf": "forged"}):
            response = await client.post(f"/faults/{fault.id}/ack", data=data, allow_redirects=False)
            assert response.status == 403 and "页面已过期" in await response.text()
        assert faults.get(fault.id).acknowledged is None
        token = await csrf_of(client, f"/faults/{fault.id}")
        response = await client.post(f"/faults/{fault.id}/ack", data={"csrf": token}, allow_redirects=False)
        assert response.status == 303
        assert faults.get(fault.id).acknowledged_by == "eng1"
    finally:
        await client.close()


async def test_a_login_post_without_the_login_token_is_refused(config_path):
    client, _ = await console_client(config_path)
    try:
        response = await client.post("/login", data={"user": "eng1", "password": PASSWORD}, allow_redirects=False)
        assert response.status == 403 and "yunwei_session" not in response.headers.get("Set-Cookie", "")
    finally:
        await client.close()


async def test_a_login_redirect_never_leaves_the_console(config_path):
    client, _ = await console_client(config_path)
    try:
        token = await csrf_of(client, "/login")
        response = await client.post("/login", data={"csrf": token, "user": "eng1", "password": PASSWORD,
                                                     "next": "//evil.example/x"}, allow_redirects=False)
        assert response.headers["Location"] == "/"
    finally:
        await client.close()


async def test_device_names_and_notes_are_escaped(config_path):
    client, console = await console_client(config_path)
    try:
        await login(client, "viewer1")
        for path in ("/devices", "/devices/cam-x", "/topology"):
            text = await (await client.get(path)).text()
            assert "<script>alert(1)</script>" not in text, path
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path
        headers = (await client.get("/devices")).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"] and headers["X-Content-Type-Options"] == "nosniff"
    finally:
        await client.close()


def test_the_audit_chain_names_the_edited_entry(config_path, capsys):
    inventory = load_config(config_path)
    with open_store(inventory.data_dir) as store:
        trail = AuditTrail(store)
        for n in range(3):
            audit.record(trail, "eng1", "fault.ack", f"F-{n}", "127.0.0.1")
        assert audit.verify(trail).ok
        store.db.execute("UPDATE web_audit SET actor = 'someone-else' WHERE id = 3")
    assert main(["audit", "verify", "-c", str(config_path)]) == 1
    assert "BROKEN at entry 3" in capsys.readouterr().out
    with open_store(inventory.data_dir) as store:
        trail = AuditTrail(store)
        store.db.execute("UPDATE web_audit SET actor = 'eng1' WHERE id = 3")
        assert audit.verify(trail).ok
        store.db.execute("DELETE FROM web_audit WHERE id = 2")
        verdict = audit.verify(trail)
        assert verdict.broken_at == 3 and "missing" in verdict.reason


def test_user_commands(config_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
    assert main(["user", "add", "zhang", "--role", "engineer", "--password-stdin", "-c", str(config_path)]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "add", "li", "--role", "viewer", "--password-stdin", "-c", str(config_path)]) == 2
    assert "too short" in capsys.readouterr().err
    assert main(["user", "disable", "zhang", "-c", str(config_path)]) == 0
    assert main(["user", "list", "-c", str(config_path)]) == 0
    listing = capsys.readouterr().out
    assert "zhang" in listing and "disabled" in listing and "li " not in listing
    inventory = load_config(config_path)
    with open_store(inventory.data_dir) as store:
        users = Accounts(store)
        with pytest.raises(accounts.LoginRefused):
            accounts.authenticate(users, "zhang", "a-long-enough-password", 5, 60)
        assert [e.action for e in audit.entries(AuditTrail(store))][-2:] == ["user.add", "user.disable"]
        with pytest.raises(InputError):
            accounts.add_user(users, "zhang", "viewer", "another-long-password")


def test_a_remote_listen_address_needs_tls_or_an_explicit_allowance(tmp_path):
    path = write_config(tmp_path, {**CONFIG, "web": {"listen": "0.0.0.0:8470"}})
    with pytest.raises(InputError) as caught:
        load_config(path)
    problem = str(caught.value.problems[0])
    assert "config.yaml" in problem and "web" in problem and "tls" in problem
    path = write_config(tmp_path, {**CONFIG, "web": {"listen": "0.0.0.0:8470", "allow_cleartext_remote": True}})
    assert load_config(path).config.web.host == "0.0.0.0"


async def test_console_without_users_does_not_start(tmp_path):
    inventory = load_config(write_config(tmp_path))
    agent = Agent(inventory, attach_hooks=False)
    component = WebComponent()
    await component.start(agent)
    assert component.url is None
    await component.stop()
    agent.writer.shutdown()


def _self_signed(directory: Path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "web.crt", directory / "web.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


async def test_the_console_serves_https_with_the_configured_certificate(tmp_path):
    cert, key = _self_signed(tmp_path)
    path = write_config(tmp_path, {**CONFIG, "web": {"listen": "127.0.0.1:0", "tls": {"cert": cert, "key": key}}})
    add_users(path)
    agent = Agent(load_config(path), attach_hooks=False)
    component = WebComponent()
    await component.start(agent)
    try:
        assert component.url is not None and component.url.startswith("https://127.0.0.1:")
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{component.url}/login", ssl=False) as response:
                assert response.status == 200
                assert "Secure" in response.headers["Set-Cookie"]
                assert response.headers["Strict-Transport-Security"].startswith("max-age=")
            with pytest.raises(aiohttp.ClientError):
                async with session.get(component.url.replace("https", "http") + "/login"):
                    pass
    finally:
        await component.stop()
        agent.writer.shutdown()
