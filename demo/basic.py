"""Demo part: servers, phones and platforms on loopback whose listeners open and close.

- 16 "servers" (TCP listeners on 127.0.1.x): three go down for ~20 s, one flaps faster than
  the debounce (never an outage);
- 8 "IP phones" pinged on 127.0.2.x when ICMP is usable (root, CAP_NET_RAW or
  ping_group_range), else probed by TCP;
- 3 "platforms" (HTTP with a keyword): one starts answering 500 mid-demo.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

from collectors.icmp import icmp_permission_problem
from demo.fleet import DemoContext, DemoFleet, LoopbackServer

SERVERS = 16
PHONES = 8


class _Platform(LoopbackServer):
    """A tiny HTTP server whose page can be switched to HTTP 500."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.failing = False

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            if self.failing:
                body, status = "数据库连接失败".encode(), "500 Internal Server Error"
            else:
                body, status = "<html><title>政务服务平台</title>登录</html>".encode(), "200 OK"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        writer.close()


class BasicPart:
    def __init__(self) -> None:
        self.listeners: list[LoopbackServer] = []
        self.platforms: list[_Platform] = []
        self.tasks: list[asyncio.Task[Any]] = []

    async def start(self, ctx: DemoContext) -> DemoFleet:
        port = random.randint(20000, 40000)
        fleet = DemoFleet(
            units=[{"id": "demo-unit", "name": "示范使用单位"}],
            systems=[
                {"id": "machine-room", "name": "机房网络", "unit": "demo-unit"},
                {"id": "platforms", "name": "业务平台", "unit": "demo-unit"},
            ],
            groups=[
                {"id": "servers", "name": "机房服务器", "unit": "demo-unit", "system": "machine-room", "kind": "server"},
                {"id": "phones", "name": "IP电话", "unit": "demo-unit", "system": "machine-room", "kind": "phone"},
                {"id": "portals", "name": "业务平台", "unit": "demo-unit", "system": "platforms", "kind": "platform"},
            ],
        )
        for index in range(SERVERS):
            listener = LoopbackServer(f"127.0.1.{index + 1}", port)
            await listener.open()
            self.listeners.append(listener)
            fleet.devices.append(
                {
                    "id": f"srv-{index + 1:02d}",
                    "name": f"服务器 {index + 1:02d}",
                    "group": "servers",
                    "address": listener.host,
                    "probes": {"tcp": {"port": port, "timeout": 1}},
                }
            )
        icmp_problem = _icmp_problem()
        for index in range(PHONES):
            address = f"127.0.2.{index + 1}"
            probes: dict[str, Any]
            if icmp_problem is None:
                probes = {"icmp": {"count": 2, "timeout": 1}}
            else:
                listener = LoopbackServer(address, port)
                await listener.open()
                self.listeners.append(listener)
                probes = {"tcp": {"port": port, "timeout": 1}}
            fleet.devices.append(
                {"id": f"phone-{index + 1:02d}", "name": f"IP电话 {index + 1:02d}", "group": "phones", "address": address, "probes": probes}
            )
        if icmp_problem is not None:
            fleet.notes.append(f"ICMP not usable here ({icmp_problem}); phones are probed by TCP instead")
        for index in range(3):
            platform = _Platform("127.0.3.1", port + 1 + index)
            await platform.open()
            self.platforms.append(platform)
            fleet.devices.append(
                {
                    "id": f"portal-{index + 1}",
                    "name": ["政务服务网", "12345热线平台", "财政支付平台"][index],
                    "group": "portals",
                    "probes": {"http": {"url": f"http://127.0.3.1:{platform.port}/", "keyword": "登录", "timeout": 2}},
                }
            )
        third = ctx.seconds / 3
        self.tasks.append(asyncio.create_task(self._outage(self.listeners[2:5], third * 0.9, third)))
        self.tasks.append(asyncio.create_task(self._flap(self.listeners[7], ctx.interval)))
        self.tasks.append(asyncio.create_task(self._fail_platform(self.platforms[1], ctx.seconds * 0.45)))
        return fleet

    async def _outage(self, listeners: list[LoopbackServer], after: float, duration: float) -> None:
        await asyncio.sleep(after)
        for listener in listeners:
            await listener.close()
        await asyncio.sleep(duration)
        for listener in listeners:
            await listener.open()

    async def _flap(self, listener: LoopbackServer, interval: float) -> None:
        while True:  # down for about one poll, up for several: shorter than the debounce
            await asyncio.sleep(interval * 4)
            await listener.close()
            await asyncio.sleep(interval * 0.9)
            await listener.open()

    async def _fail_platform(self, platform: _Platform, after: float) -> None:
        await asyncio.sleep(after)
        platform.failing = True

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for listener in self.listeners:
            await listener.close()
        for platform in self.platforms:
            await platform.close()


def _icmp_problem() -> str | None:
    return icmp_permission_problem()


def part() -> BasicPart:
    return BasicPart()
