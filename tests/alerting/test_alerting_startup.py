"""Faults found at start: one log line and one chat message, then changes one by one.

A real agent on loopback: every device is a TCP listener on 127.0.0.1 (open = up, closed =
refused), and the chat channel is a webhook receiver on 127.0.0.1 that keeps every message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from alerting_support import ROUTE_ALL, WEBHOOK_CHANNEL, Clock, outbox

from agent.runtime import Agent
from alerting.component import AlertingComponent
from alerting.service import AlertingService
from core.model import State, Transition
from store.db import Store


class WebhookReceiver:
    """An HTTP endpoint on loopback that answers 200 and keeps each posted JSON body."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        self.messages.append(json.loads(await reader.readexactly(length)))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()


@contextmanager
def listeners(open_count: int, closed_count: int) -> Iterator[tuple[dict[int, socket.socket], list[int]]]:
    """``open_count`` listening sockets (port → socket) and ``closed_count`` ports nobody listens on."""
    opened: dict[int, socket.socket] = {}
    closed: list[int] = []
    try:
        for _ in range(open_count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sock.listen(64)
            opened[sock.getsockname()[1]] = sock
        for _ in range(closed_count):
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                closed.append(sock.getsockname()[1])
        yield opened, closed
    finally:
        for sock in opened.values():
            sock.close()


def fleet(ports: list[int], hook_port: int, language: str = "zh") -> dict[str, Any]:
    return {
        "agent": {
            "default_interval": 2,
            "jitter": 0,
            "language": language,
            "debounce": {"down_after": 2, "up_after": 1, "retry_seconds": 0.5},
        },
        "units": [{"id": "gaj", "name": "市公安局"}],
        "devices": [
            {"id": f"d{i:03d}", "name": f"东门-{i:03d}", "kind": "server", "unit": "gaj", "address": "127.0.0.1",
             "probes": {"tcp": {"port": port, "timeout": 1}}}
            for i, port in enumerate(ports)
        ],
        "alerting": {
            "hold_seconds": 1,
            "tick_seconds": 0.2,
            "outbox": {"poll_seconds": 0.2},
            "channels": {"ops": {"type": "webhook", "url": f"http://127.0.0.1:{hook_port}/hook"}},
            "routes": [{"channels": ["ops"]}],
        },
    }


async def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if condition():
            return True
        await asyncio.sleep(0.1)
    return condition()


async def test_a_start_with_20_of_200_down_posts_one_message_then_a_new_outage_its_own(
    make_inventory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="yunwei")
    receiver = WebhookReceiver()
    hook_port = await receiver.start()
    with listeners(180, 20) as (opened, closed):
        ports = list(opened) + closed  # devices d180 … d199 are down at start
        agent = Agent(make_inventory(fleet(ports, hook_port)), attach_hooks=False)
        agent.components.append(AlertingComponent())
        await agent.start()
        try:
            assert await wait_until(lambda: len(receiver.messages) >= 1, 30), "no startup message"
            await asyncio.sleep(3)  # time for a second message, if one were coming
            assert len(receiver.messages) == 1, [m["title"] for m in receiver.messages]
            startup = receiver.messages[0]
            assert startup["kind"] == "startup"
            assert startup["title"].startswith("启动: 180 台在线, 20 台离线 · 故障 20 个")
            assert "【三级故障】 **东门-180** 中断 (连接被拒绝" in startup["text"]  # each with its level, in Chinese
            assert len(startup["faults"]) == 20

            # every fault found at start is in the ledger with its deadlines
            rows = agent.db.db.execute("SELECT device, respond_by, resolve_by, opened FROM alert_faults WHERE state = 'open'").fetchall()
            assert sorted(r[0] for r in rows) == [f"d{i:03d}" for i in range(180, 200)]
            assert all(respond > opened and resolve > opened for _, respond, resolve, opened in rows)
            ledger = agent.db.db.execute("SELECT COUNT(*) FROM ledger WHERE uid LIKE 'fault:%'").fetchone()[0]
            assert ledger == 20

            # the log: one summary line instead of 200 'unknown → …' lines
            lines = [r.getMessage() for r in caplog.records]
            assert [line for line in lines if line.startswith("first round: 180 up, 20 down (down: 东门-180")]
            assert not [line for line in lines if "unknown →" in line]

            # a device going down after the start: its own message, and its own log line
            port = next(iter(opened))
            opened.pop(port).close()
            assert await wait_until(lambda: len(receiver.messages) >= 2, 20), "the new outage was not posted"
            new = receiver.messages[1]
            assert new["kind"] == "open" and "东门-000" in new["title"]
            assert [line for line in (r.getMessage() for r in caplog.records) if line.startswith("东门-000 up → down")]
        finally:
            await agent.drain(5)
            await receiver.stop()


async def test_the_startup_message_is_in_english_with_language_en(make_inventory: Any) -> None:
    receiver = WebhookReceiver()
    hook_port = await receiver.start()
    with listeners(8, 2) as (opened, closed):
        agent = Agent(make_inventory(fleet(list(opened) + closed, hook_port, language="en")), attach_hooks=False)
        agent.components.append(AlertingComponent())
        await agent.start()
        try:
            assert await wait_until(lambda: len(receiver.messages) >= 1, 30), "no startup message"
            await asyncio.sleep(1.5)
            assert [m["title"] for m in receiver.messages] == ["Started: 8 online, 2 offline · 2 faults"]
            assert "existed before the start" in receiver.messages[0]["text"]
        finally:
            await agent.drain(5)
            await receiver.stop()


def unknown_to(device: str, at: float, state: State) -> Transition:
    return Transition(device, at, state, State.UNKNOWN, "connection refused (port 22)" if state == State.DOWN else "")


def servers_config(count: int) -> dict[str, Any]:
    return {
        "units": [{"id": "fgw", "name": "发改委"}],
        "systems": [{"id": "net", "name": "电子政务外网", "unit": "fgw"}],
        "devices": [
            {"id": f"srv-{i}", "name": f"服务器{i}", "kind": "server", "address": f"10.0.0.{i + 1}", "unit": "fgw",
             "system": "net", "probes": {"tcp": {"port": 22}}, **({"role": "core"} if i == 0 else {})}
            for i in range(count)
        ],
        "alerting": {
            "hold_seconds": 30,
            "rules": [{"kinds": "server", "level": 3}, {"roles": "core", "level": 1}],
            "group_faults": {"enabled": False},
            "channels": WEBHOOK_CHANNEL,
            "routes": ROUTE_ALL,
        },
    }


def test_faults_found_at_start_wait_for_their_holds_then_go_in_one_message_worst_first(
    make_inventory: Any, tmp_path: Any
) -> None:
    clock = Clock()
    inventory = make_inventory(servers_config(6))
    with Store(tmp_path / "s.db") as store:
        service = AlertingService(store, inventory, clock, fold_startup=True)
        t = clock.now
        first = [unknown_to("srv-0", t, State.DOWN), unknown_to("srv-1", t, State.DOWN), unknown_to("srv-2", t, State.DOWN)]
        first += [unknown_to(f"srv-{i}", t, State.UP) for i in (3, 4, 5)]
        store.add_transitions(first, agent="test")
        service.on_round([], first, t, first_round_done=True)
        assert outbox(store) == []  # the holds are still running
        recovered = [Transition("srv-2", t + 10, State.UP, State.DOWN, "")]
        store.add_transitions(recovered, agent="test")
        service.on_round([], recovered, clock.advance(10), first_round_done=True)
        went_down = [Transition("srv-3", t + 20, State.DOWN, State.UP, "timeout")]  # up at start: not one of them
        store.add_transitions(went_down, agent="test")
        service.on_round([], went_down, clock.advance(10), first_round_done=True)
        service.tick(clock.advance(15))  # srv-0 and srv-1 held 35 s: opened, the start is over
        service.tick(clock.advance(20))  # srv-3 held 35 s: its own message
        rows = outbox(store)
        assert [row["kind"] for row in rows] == ["startup", "open"]
        startup, own = rows[0]["body"], rows[1]["body"]
        assert startup["title"] == "启动: 3 台在线, 3 台离线 · 故障 2 个"  # the fleet when the start ended
        lines = startup["text"].splitlines()[1:]
        assert "【一级故障】 **电子政务外网 服务器0**" in lines[0] and "【三级故障】 **电子政务外网 服务器1**" in lines[1]
        assert "服务器2" not in startup["text"]  # back up before the start was over: nothing to tell
        assert "服务器3" in own["title"]
        faults = store.db.execute("SELECT device, state FROM alert_faults ORDER BY seq").fetchall()
        assert faults == [("srv-0", "open"), ("srv-1", "open"), ("srv-3", "open")]
