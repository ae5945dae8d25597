"""Demo part: a camera group dipping under its contract rate, conference terminals, a meeting.

- 40 "cameras" of 蓝天卫士 (a minimal RTSP responder per address 127.0.6.x, pure Python:
  OPTIONS, DESCRIBE with Digest authentication and an H.264 + G.711 SDP), online rule ``rtsp``,
  online-rate threshold 95 % with a 1 % warning margin: two cameras go offline a quarter of
  the way in (95 %: warning), a third at half time (92.5 %: breach);
- one checkpoint camera whose configured password is wrong (``credentials wrong``);
- 3 conference terminals answering SIP OPTIONS over UDP like a Yealink VC800 (127.0.7.x), one
  of which stops answering, and an MCU reached on its H.323 port (tcp);
- a meeting whose readiness check (30 minutes ahead) falls inside the demo: the result is
  filed in the ledger and printed at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import re
import sys
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from demo.fleet import DemoContext, DemoFleet, LoopbackServer
from store.db import open_store

CAMERAS = 40
TERMINALS = 3
USER, PASSWORD = "admin", "Demo#2026"
REALM = "IP Camera(demo)"
SDP = (
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=Media Presentation\r\nt=0 0\r\n"
    "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=1\r\n"
    "m=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:trackID=2\r\n"
)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class RtspResponder(LoopbackServer):
    """A camera's RTSP service: OPTIONS and DESCRIBE, Digest auth, on one address."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.nonce = os.urandom(8).hex()

    def _authorized(self, method: str, header: str | None) -> bool:
        if not header or not header.startswith("Digest "):
            return False
        params = dict(re.findall(r'(\w+)="?([^",]*)"?', header[7:]))
        ha1 = _md5(f"{USER}:{REALM}:{PASSWORD}")
        ha2 = _md5(f"{method}:{params.get('uri', '')}")
        expected = _md5(f"{ha1}:{self.nonce}:{ha2}")
        return params.get("username") == USER and params.get("response") == expected

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError):
            while True:
                request = (await reader.readline()).decode("latin-1").strip()
                if not request:
                    break
                headers: dict[str, str] = {}
                while (line := (await reader.readline()).decode("latin-1").strip()):
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                method = request.split(" ", 1)[0]
                cseq = headers.get("cseq", "0")
                if method == "OPTIONS":
                    answer = f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n"
                elif method == "DESCRIBE" and self._authorized(method, headers.get("authorization")):
                    body = SDP.encode()
                    answer = (
                        f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Type: application/sdp\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n{SDP}"
                    )
                elif method == "DESCRIBE":
                    answer = (
                        f"RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\n"
                        f'WWW-Authenticate: Digest realm="{REALM}", nonce="{self.nonce}"\r\n\r\n'
                    )
                else:
                    answer = f"RTSP/1.0 405 Method Not Allowed\r\nCSeq: {cseq}\r\n\r\n"
                writer.write(answer.encode("latin-1"))
                await writer.drain()
        writer.close()


class SipResponder(asyncio.DatagramProtocol):
    """A conference terminal's SIP stack: answers OPTIONS with 200 while ``answering``."""

    def __init__(self, agent: str) -> None:
        self.agent = agent
        self.answering = True
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self.answering or self.transport is None:
            return
        lines = data.decode("utf-8", "replace").split("\r\n")
        if not lines[0].startswith("OPTIONS "):
            return
        keep = [line for line in lines[1:] if line.split(":", 1)[0].lower() in ("via", "from", "to", "call-id", "cseq")]
        keep = [f"{line};tag=demo{random.randint(1000, 9999)}" if line.lower().startswith("to:") else line for line in keep]
        answer = "\r\n".join(["SIP/2.0 200 OK", *keep, f"User-Agent: {self.agent}", "Content-Length: 0", "", ""])
        self.transport.sendto(answer.encode(), addr)


class VideoPart:
    def __init__(self) -> None:
        self.cameras: list[RtspResponder] = []
        self.terminals: list[tuple[asyncio.DatagramTransport, SipResponder]] = []
        self.mcu: LoopbackServer | None = None
        self.tasks: list[asyncio.Task[Any]] = []
        self.ctx: DemoContext | None = None

    async def start(self, ctx: DemoContext) -> DemoFleet:
        self.ctx = ctx
        port = random.randint(20000, 40000)
        fleet = DemoFleet(
            units=[{"id": "demo-video-gaj", "name": "示范公安局 (视频)"}, {"id": "demo-ybj", "name": "示范医保局"}],
            systems=[
                {"id": "demo-lantian", "name": "蓝天卫士", "unit": "demo-video-gaj"},
                {"id": "demo-vc", "name": "视频会议系统", "unit": "demo-ybj"},
            ],
            groups=[
                {
                    "id": "demo-cameras",
                    "name": f"蓝天卫士 {CAMERAS} 路",
                    "unit": "demo-video-gaj",
                    "system": "demo-lantian",
                    "kind": "camera",
                    "online": "rtsp",
                    "online_rate": {"threshold": 0.95, "warn_margin": 0.01},
                },
                {"id": "demo-venues", "name": "会场终端", "unit": "demo-ybj", "system": "demo-vc", "kind": "vc_terminal"},
            ],
        )
        camera_probe = {"port": port, "path": "/Streaming/Channels/101", "username": USER, "password": PASSWORD, "timeout": 1}
        for index in range(CAMERAS + 1):
            camera = RtspResponder(f"127.0.6.{index + 1}", port)
            await camera.open()
            self.cameras.append(camera)
        for index in range(CAMERAS):
            fleet.devices.append(
                {
                    "id": f"lt-cam-{index + 1:03d}",
                    "name": f"蓝天卫士-{index + 1:03d}",
                    "group": "demo-cameras",
                    "address": self.cameras[index].host,
                    "probes": {"rtsp": dict(camera_probe)},
                }
            )
        fleet.devices.append(
            {
                "id": "kk-cam-001",
                "name": "卡口摄像机 (密码已改)",
                "kind": "camera",
                "unit": "demo-video-gaj",
                "system": "demo-lantian",
                "address": self.cameras[CAMERAS].host,
                "probes": {"rtsp": {**camera_probe, "password": "old-password"}},
            }
        )
        loop = asyncio.get_running_loop()
        for index in range(TERMINALS):
            transport, responder = await loop.create_datagram_endpoint(
                lambda: SipResponder("Yealink VC800 63.345.0.15"), local_addr=(f"127.0.7.{index + 1}", port)
            )
            self.terminals.append((transport, responder))  # type: ignore[arg-type]
        self.mcu = LoopbackServer("127.0.7.100", port + 1)
        await self.mcu.open()
        fleet.devices.append(
            {
                "id": "demo-mcu",
                "name": "省平台 MCU",
                "kind": "mcu",
                "unit": "demo-ybj",
                "system": "demo-vc",
                "address": "127.0.7.100",
                "probes": {"h323": {"collector": "tcp", "port": port + 1, "timeout": 1}},
            }
        )
        for index, name in enumerate(["贵阳会场", "遵义会场", "安顺会场"][:TERMINALS]):
            fleet.devices.append(
                {
                    "id": f"demo-vc-{index + 1}",
                    "name": name,
                    "group": "demo-venues",
                    "address": f"127.0.7.{index + 1}",
                    "probes": {"sip": {"port": port, "timeout": 1}},
                    "attrs": {"mcu": "demo-mcu"},
                }
            )
        zone = ZoneInfo("Asia/Shanghai")
        meeting_at = datetime.fromtimestamp(time.time() + 1800 + ctx.seconds * 0.6, zone)
        fleet.sections["meetings"] = [
            {"name": "示范视频会", "at": meeting_at.isoformat(timespec="seconds"), "venues": ["demo-venues"]}
        ]
        fleet.notes.append(
            f"{CAMERAS} cameras (RTSP, Digest) on 127.0.6.x, {TERMINALS} SIP terminals on 127.0.7.x, "
            f"meeting at {meeting_at:%H:%M:%S} checked 30 min ahead"
        )
        quarter = ctx.seconds / 4
        self.tasks.append(asyncio.create_task(self._cameras_fail(self.cameras[:2], quarter, "2 cameras offline: 95 %, warning")))
        self.tasks.append(asyncio.create_task(self._cameras_fail(self.cameras[2:3], quarter * 2, "a 3rd camera offline: 92.5 %, below 95 %")))
        self.tasks.append(asyncio.create_task(self._terminal_hangs(self.terminals[1][1], ctx.seconds * 0.4)))
        return fleet

    async def _cameras_fail(self, cameras: list[RtspResponder], after: float, note: str) -> None:
        await asyncio.sleep(after)
        for camera in cameras:
            await camera.close()
        print(f"demo: {note}", file=sys.stderr)

    async def _terminal_hangs(self, responder: SipResponder, after: float) -> None:
        await asyncio.sleep(after)
        responder.answering = False
        print("demo: 遵义会场's SIP stack stopped answering", file=sys.stderr)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for camera in self.cameras:
            await camera.close()
        for transport, _ in self.terminals:
            transport.close()
        if self.mcu is not None:
            await self.mcu.close()
        if self.ctx is not None:
            self._print_meeting_checks()

    def _print_meeting_checks(self) -> None:

        assert self.ctx is not None
        path = self.ctx.data_dir / "yunwei.db"
        if not path.exists():
            return
        with open_store(self.ctx.data_dir) as store:
            checks = [body for _, _, _, _, body in store.events(["record"]) if body.get("kind") == "meeting_check"]
        for body in checks:
            print(
                f"\nMeeting readiness ({body['meeting']} at {body['meeting_at']}, checked {body['at']}): "
                f"{body['ready_count']}/{body['venue_count']} venues ready"
            )
            for venue in body["venues"]:
                state = "ready" if venue["ready"] else f"NOT READY: {venue['why']}"
                print(f"  {venue['name']:<8} {state}")


def part() -> VideoPart:
    return VideoPart()
