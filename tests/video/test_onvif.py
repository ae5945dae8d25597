"""ONVIF collector against a local HTTP server replaying camera models' SOAP answers.

The server checks the WS-Security UsernameToken it receives the way cameras do: the digest
must match the password and ``Created`` must be within a minute of the *camera's* clock.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from peers import free_port
from video_helpers import LoopbackServer, make_target, probe_once

from collectors.onvif import password_digest, posix_tz_offset

DATA = Path(__file__).parent.parent / "data" / "onvif"
MODELS = sorted(p.name for p in DATA.iterdir() if p.is_dir())
USER, PASSWORD = "admin", "Onvif@2026"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def set_clock(xml: str, block: str, moment: datetime) -> str:
    """Rewrite the Year..Second values inside ``<x:block>`` with ``moment``."""

    def rewrite(match: re.Match[str]) -> str:
        text = match.group(0)
        for name, value in (("Year", moment.year), ("Month", moment.month), ("Day", moment.day),
                            ("Hour", moment.hour), ("Minute", moment.minute), ("Second", moment.second)):
            text = re.sub(rf"(<(\w+:)?{name}>)\d+(</(\w+:)?{name}>)", rf"\g<1>{value}\g<3>", text)
        return text

    return re.sub(rf"<(\w+:)?{block}>.*?</(\w+:)?{block}>", rewrite, xml, flags=re.S)


@dataclass
class CameraState:
    model: str
    skew: float = 0.0  # camera clock minus real time, seconds
    tokens: list[dict[str, str]] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.skew)


def make_handler(state: CameraState) -> type[BaseHTTPRequestHandler]:
    folder = DATA / state.model
    meta = json.loads((folder / "model.json").read_text())

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            root = ET.fromstring(body)
            soap_body = next(el for el in root if _local(el.tag) == "Body")
            operation = _local(soap_body[0].tag)
            state.operations.append(operation)
            if operation == "GetSystemDateAndTime":
                camera_now = state.now()
                xml = (folder / "GetSystemDateAndTime.xml").read_text()
                xml = set_clock(xml, "UTCDateTime", camera_now)
                xml = set_clock(xml, "LocalDateTime", camera_now + timedelta(hours=8))
                return self.answer(200, xml)
            if operation == "GetDeviceInformation":
                if not self.authorized(root):
                    return self.answer(meta["fault_status"], (folder / "NotAuthorized.xml").read_text())
                return self.answer(200, (folder / "GetDeviceInformation.xml").read_text())
            return self.answer(400, "<unknown/>")

        def authorized(self, root: ET.Element) -> bool:
            token = {_local(el.tag): (el.text or "") for el in root.iter()
                     if _local(el.tag) in ("Username", "Password", "Nonce", "Created")}
            token["PasswordType"] = next((el.get("Type", "") for el in root.iter() if _local(el.tag) == "Password"), "")
            state.tokens.append(token)
            if token.get("Username") != USER or not token["PasswordType"].endswith("#PasswordDigest"):
                return False
            created = datetime.fromisoformat(token["Created"].replace("Z", "+00:00"))
            if abs((created - state.now()).total_seconds()) > 60:  # stale or from another clock
                return False
            nonce = base64.b64decode(token["Nonce"])
            expected = base64.b64encode(hashlib.sha1(nonce + token["Created"].encode() + PASSWORD.encode()).digest()).decode()
            return token["Password"] == expected

        def answer(self, status: int, xml: str) -> None:
            data = xml.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def camera() -> Iterator[callable]:
    servers: list[ThreadingHTTPServer] = []

    def start(model: str, skew: float = 0.0) -> tuple[int, CameraState]:
        state = CameraState(model=model, skew=skew)
        server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return server.server_address[1], state

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("model", MODELS)
async def test_identity_and_clock_of_each_model(camera, model: str) -> None:
    port, state = camera(model)
    expected = json.loads((DATA / model / "model.json").read_text())
    target = make_target("onvif", "127.0.0.1", port=port, username=USER, password=PASSWORD)
    sample = await probe_once("onvif", target)
    assert sample.ok, sample.error
    assert {k: v for k, v in sample.info.items() if k.startswith("fact.")} == expected["facts"]
    assert sample.info["clock_source"] == expected["clock_source"]
    assert abs(sample.metrics["clock_drift_seconds"]) < 1.2  # cameras tell whole seconds
    assert sample.metrics["clock_drift_exceeded"] == 0
    assert sample.metrics["auth_failed"] == 0
    assert state.operations == ["GetSystemDateAndTime", "GetDeviceInformation"]
    assert state.tokens[0]["Username"] == USER and PASSWORD not in json.dumps(state.tokens)


@pytest.mark.parametrize("model", MODELS)
async def test_wrong_password_is_a_credentials_fault(camera, model: str) -> None:
    port, _ = camera(model)
    target = make_target("onvif", "127.0.0.1", port=port, username=USER, password="guess")
    sample = await probe_once("onvif", target)
    assert not sample.ok
    assert sample.error is not None and sample.error.startswith(f"credentials wrong (camera refused user '{USER}'")
    assert sample.metrics["auth_failed"] == 1
    assert not any(k.startswith("fact.") for k in sample.info)
    assert "clock_drift_seconds" in sample.metrics  # the unauthenticated part still reported


async def test_clock_drift_is_measured_and_the_token_uses_the_camera_clock(camera) -> None:
    port, state = camera("hikvision-ds-2cd2t47g2", skew=-600)
    target = make_target("onvif", "127.0.0.1", port=port, username=USER, password=PASSWORD, max_clock_drift=60)
    sample = await probe_once("onvif", target)
    assert sample.ok, sample.error  # accepted although the camera is 10 minutes behind
    assert -601.2 < sample.metrics["clock_drift_seconds"] < -598.8
    assert sample.metrics["clock_drift_exceeded"] == 1
    assert sample.info["clock"] in ("camera clock off by -600 s", "camera clock off by -601 s", "camera clock off by -599 s")
    created = datetime.fromisoformat(state.tokens[0]["Created"].replace("Z", "+00:00"))
    assert abs((created - (datetime.now(UTC) - timedelta(seconds=600))).total_seconds()) < 5


async def test_without_credentials_only_the_clock_is_read(camera) -> None:
    port, state = camera("dahua-ipc-hfw2431s", skew=30)
    sample = await probe_once("onvif", make_target("onvif", "127.0.0.1", port=port))
    assert sample.ok, sample.error
    assert 28.8 < sample.metrics["clock_drift_seconds"] < 31.2
    assert sample.metrics["clock_drift_exceeded"] == 0
    assert "auth_failed" not in sample.metrics
    assert state.operations == ["GetSystemDateAndTime"]


async def test_closed_port_and_garbage() -> None:
    port = free_port()
    refused = await probe_once("onvif", make_target("onvif", "127.0.0.1", port=port, timeout=2))
    assert not refused.ok and refused.error == f"connection refused (port {port})"

    async def telnet_banner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff\xfd\x18\xff\xfd login: ")
        await writer.drain()
        await asyncio.sleep(1)

    async def html_page(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        page = b"<html><body>Web Service</body>"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(page), page))
        await writer.drain()

    async with LoopbackServer(telnet_banner) as one, LoopbackServer(html_page) as two:
        garbage = await probe_once("onvif", make_target("onvif", "127.0.0.1", port=one.port, timeout=2))
        html = await probe_once("onvif", make_target("onvif", "127.0.0.1", port=two.port, timeout=2))
    assert not garbage.ok and garbage.error is not None and garbage.error.startswith("not an HTTP answer")
    assert not html.ok and html.error is not None and html.error.startswith("HTTP 200: not a SOAP answer")


async def test_silent_camera_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)

    async with LoopbackServer(silent) as server:
        sample = await probe_once("onvif", make_target("onvif", "127.0.0.1", port=server.port, timeout=0.5))
    assert not sample.ok and sample.error == "timeout after 0.5 s (no ONVIF answer)"


def test_password_digest_matches_the_onvif_programmers_guide_example() -> None:
    nonce = base64.b64decode("LKqI6G/AikKCQrN0zqZFlg==")
    assert password_digest(nonce, "2010-09-16T07:50:45Z", "userpassword") == "tuOSpGlFlIXsozq4HFNeeGeFLEI="


def test_posix_time_zones() -> None:
    assert posix_tz_offset("CST-8") == timedelta(hours=8)
    assert posix_tz_offset("CST-8:00:00") == timedelta(hours=8)
    assert posix_tz_offset("<+08>-8") == timedelta(hours=8)
    assert posix_tz_offset("EST5EDT,M3.2.0,M11.1.0") == timedelta(hours=-5)
    assert posix_tz_offset("garbage") is None


async def test_the_agent_stores_the_facts_once(camera, make_inventory) -> None:
    from agent.builtin import FactsRecorder
    from agent.runtime import Agent

    port, _ = camera("uniview-ipc2124")
    inventory = make_inventory(
        {
            "devices": [
                {
                    "id": "cam-001",
                    "kind": "camera",
                    "address": "127.0.0.1",
                    "probes": {"onvif": {"port": port, "username": USER, "password": PASSWORD}},
                }
            ]
        }
    )
    recorder = FactsRecorder()
    agent = Agent(inventory, attach_hooks=False, components=[recorder])
    await agent.start(schedule=False)
    try:
        await agent.run_all_once()
        await agent.run_all_once()
        facts = agent.db.facts("cam-001")
        updated = agent.db.db.execute("SELECT MAX(updated) FROM facts WHERE device = 'cam-001'").fetchone()[0]
        await agent.run_all_once()
        assert agent.db.db.execute("SELECT MAX(updated) FROM facts").fetchone()[0] == updated  # unchanged: not rewritten
    finally:
        await agent.drain(5)
    assert facts == {
        "manufacturer": "Uniview",
        "model": "IPC2124LR3-PF40M-D",
        "firmware": "IPC_G6103-B5015P13D1805",
        "serial": "210235C3EN3185000001",
        "hardware_id": "A",
    }
