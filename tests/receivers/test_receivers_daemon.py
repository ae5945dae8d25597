"""Traps and syslog in the running agent: stored, confirmed by an immediate probe, and turned
into faults that reach the chat (the alerting demo's DingTalk-compatible sink) within 2 s."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from typing import Any

import pytest
from peers import free_port
from receivers_support import COMMUNITY, LINK_DOWN, LINK_UP, Switch, rss_kib, send, snmptrap_argv
from snmp.snmp_support import NUT_DEV_ONLINE

from agent.runtime import Agent
from core.model import State, Transition
from demo.chat_sink import ChatSink
from inventory.config import Inventory
from store.db import open_store
from store.events import EventLog

SECRET = "SECtraps"


@pytest.fixture
def sink():
    chat = ChatSink("tok-traps", SECRET)
    chat.start()
    yield chat
    chat.stop()


def fleet(switch: Switch, sink: ChatSink, trap_port: int, syslog_port: int, **devices: Any) -> dict[str, Any]:
    return {
        "agent": {"id": "trap-test", "debounce": {"down_after": 1, "up_after": 1}},
        "units": [{"id": "fgw", "name": "市发改委"}],
        "systems": [{"id": "net", "name": "电子政务外网", "unit": "fgw"}],
        "devices": [
            {"id": "core-sw", "name": "核心交换机", "kind": "switch", "address": "127.0.0.3", "unit": "fgw", "system": "net",
             "probes": {"snmp": {"address": "127.0.0.1", "port": switch.port, "community": switch.community,
                                 "interfaces": ["lo"], "timeout": 0.5, "retries": 0}}},
            *devices.values(),
        ],
        "alerting": {
            "hold_seconds": 0, "tick_seconds": 0.3, "outbox": {"poll_seconds": 0.1},
            "rules": [{"sources": "event", "kinds": "switch", "level": 2}],
            "channels": {"chat": {"type": "dingtalk", "url": sink.url, "secret": SECRET}},
            "routes": [{"channels": ["chat"]}],
        },
        "traps": {"listen": f"127.0.0.1:{trap_port}", "communities": [COMMUNITY], "rate_per_source": 50, "burst": 100},
        "syslog": {"listen": f"127.0.0.1:{syslog_port}"},
    }


def titles(sink: ChatSink) -> list[str]:
    return [m["markdown"]["title"] for m in sink.received]


async def wait_until(check: Any, timeout: float) -> float:
    """Seconds until ``check()`` held (infinity if it did not within ``timeout``)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    return float("inf")


async def trap_to_chat(argv: list[str], tmp_path: Any, sink: ChatSink, wanted: str, timeout: float = 2.0) -> float:
    """Seconds from starting snmptrap to the chat sink holding a title with ``wanted``."""
    started = time.monotonic()
    result = await send(argv, tmp_path)
    assert result.returncode == 0, result.stderr
    await wait_until(lambda: any(wanted in t for t in titles(sink)), timeout)
    return time.monotonic() - started if any(wanted in t for t in titles(sink)) else float("inf")


async def running(inventory: Inventory) -> Agent:
    agent = Agent(inventory)
    await agent.start(schedule=False)
    await agent.run_all_once()  # the poller learns ifIndex 1 = lo
    return agent


async def test_link_down_trap_confirmed_by_the_probe_reaches_the_chat_within_2_s(tmp_path, make_inventory, down_switch, sink):
    trap_port, syslog_port = free_port(socket.SOCK_DGRAM), free_port()
    agent = await running(make_inventory(fleet(down_switch, sink, trap_port, syslog_port)))
    try:
        took = await trap_to_chat(snmptrap_argv(trap_port, *LINK_DOWN, source="127.0.0.3"), tmp_path, sink, "lo 链路中断")
        assert took < 2.0, titles(sink)
        assert titles(sink) == ["【二级故障】电子政务外网 核心交换机 lo 链路中断"]
        log = EventLog(agent.db)
        assert await wait_until(lambda: any("fault opened" in s.outcome for s in log.search(device="core-sw")), 2.0) < 2.0
        [stored] = log.search(device="core-sw")
        assert stored.event.name == "linkDown" and stored.outcome == "confirmed by the probe; fault opened"

        await send(snmptrap_argv(trap_port, *LINK_UP, source="127.0.0.3"), tmp_path)
        assert await wait_until(lambda: len(sink.received) >= 2, 3.0) < 3.0
        assert titles(sink)[1].startswith("【已恢复】电子政务外网 核心交换机")
    finally:
        await agent.drain(5)


async def test_a_lying_link_down_is_not_confirmed_and_opens_nothing(tmp_path, make_inventory, up_switch, sink):
    trap_port, syslog_port = free_port(socket.SOCK_DGRAM), free_port()
    agent = await running(make_inventory(fleet(up_switch, sink, trap_port, syslog_port)))
    try:
        await send(snmptrap_argv(trap_port, *LINK_DOWN, source="127.0.0.3"), tmp_path)
        log = EventLog(agent.db)
        assert await wait_until(lambda: bool(log.search(device="core-sw")) and log.search(device="core-sw")[0].outcome, 3.0) < 3.0
        assert log.search(device="core-sw")[0].outcome == "not confirmed by the probe"
        await asyncio.sleep(0.5)
        assert sink.received == []
    finally:
        await agent.drain(5)


async def test_syslog_link_down_from_a_huawei_switch_opens_the_same_kind_of_fault(tmp_path, make_inventory, down_switch, sink):
    trap_port, syslog_port = free_port(socket.SOCK_DGRAM), free_port()
    agent = await running(make_inventory(fleet(down_switch, sink, trap_port, syslog_port)))
    try:
        line = "<187>Dec  7 2026 09:12:13 CORE-SW %%01IFNET/4/LINK_STATE(l)[1]:The line protocol IP on the interface lo has entered the DOWN state."
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.3", 0))
            sock.sendto(line.encode(), ("127.0.0.1", syslog_port))
        assert await wait_until(lambda: len(sink.received) >= 1, 2.0) < 2.0
        assert titles(sink) == ["【二级故障】电子政务外网 核心交换机 lo 链路中断"]
    finally:
        await agent.drain(5)


async def test_a_flood_from_one_source_does_not_delay_another_sources_link_down(tmp_path, make_inventory, down_switch, sink):
    trap_port, syslog_port = free_port(socket.SOCK_DGRAM), free_port()
    agent = await running(make_inventory(fleet(down_switch, sink, trap_port, syslog_port)))
    receivers = next(c for c in agent.components if type(c).__name__ == "ReceiversComponent")
    stats = receivers.traps.stats
    from test_receivers_traps import _trap

    datagram = _trap()
    rss_before = rss_kib()
    flood_sent = 0

    flooder = (  # 20,000 traps in about 4 s from 127.0.0.2: another process, like another device
        "import socket, sys, time\n"
        "datagram, port = bytes.fromhex(sys.argv[1]), int(sys.argv[2])\n"
        "sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); sock.bind(('127.0.0.2', 0))\n"
        "started, sent = time.monotonic(), 0\n"
        "for batch in range(200):\n"
        "    for _ in range(100):\n"
        "        sock.sendto(datagram, ('127.0.0.1', port)); sent += 1\n"
        "    time.sleep(max(0.0, started + (batch + 1) * 0.02 - time.monotonic()))\n"
        "print(sent)\n"
    )

    try:
        flooding = await asyncio.create_subprocess_exec(
            sys.executable, "-c", flooder, datagram.hex(), str(trap_port), stdout=asyncio.subprocess.PIPE
        )
        await asyncio.sleep(0.5)
        took = await trap_to_chat(snmptrap_argv(trap_port, *LINK_DOWN, source="127.0.0.3"), tmp_path, sink, "lo 链路中断")
        flood_sent = int((await flooding.communicate())[0])
        assert took < 2.0, receivers.stats()
    finally:
        await agent.drain(5)
    rss_after = rss_kib()
    assert flood_sent == 20000
    assert stats.rate_limited > 15000  # 50/s with a burst of 100 lets a few hundred through
    assert stats.events < 600 and stats.unknown_sources["127.0.0.2"] < 600
    assert rss_after - rss_before < 50_000, (rss_before, rss_after)
    saved, _ = EventLog(agent.db).stats()["traps"]  # the counters yunwei status shows
    assert saved["rate_limited"] == stats.rate_limited


async def test_ups_on_battery_trap_opens_the_contract_level_fault_and_the_poll_keeps_it_one(tmp_path, make_inventory, down_switch, sink, nut):
    trap_port, syslog_port = free_port(socket.SOCK_DGRAM), free_port()
    ups = {"id": "ups-hotline", "name": "12345 热线 UPS", "kind": "ups", "address": "127.0.0.4", "unit": "fgw", "system": "net",
           "probes": {"ups": {"address": "127.0.0.1", "nut_ups": nut.ups, "nut_port": nut.port, "timeout": 1}}}
    config = fleet(down_switch, sink, trap_port, syslog_port, ups=ups)
    config["alerting"]["thresholds"] = [
        {"name": "ups-battery", "metric": "on_battery", "op": "==", "value": 1, "kinds": "ups", "level": 1, "label": "UPS 市电中断"}
    ]
    nut.write(NUT_DEV_ONLINE)
    agent = await running(make_inventory(config))
    try:
        nut.write({**NUT_DEV_ONLINE, "ups.status": "OB DISCHRG"})
        on_battery = ("", "1.3.6.1.2.1.33.2.1", "1.3.6.1.2.1.33.1.2.3.0", "i", "180")
        took = await trap_to_chat(snmptrap_argv(trap_port, *on_battery, source="127.0.0.4"), tmp_path, sink, "UPS 市电中断")
        assert took < 2.0
        assert titles(sink) == ["【一级故障】电子政务外网 12345 热线 UPS UPS 市电中断"]
        await asyncio.sleep(1.0)  # dummy-ups re-reads its file
        await agent.run_all_once()  # the poll sees on battery too: still one fault
        await asyncio.sleep(0.5)
        assert len(sink.received) == 1
        nut.write(NUT_DEV_ONLINE)
        await asyncio.sleep(1.0)
        await agent.run_all_once()  # mains back: the poll clears the trap's fault
        assert await wait_until(lambda: len(sink.received) >= 2, 3.0) < 3.0
        assert titles(sink)[1].startswith("【已恢复】")
    finally:
        await agent.drain(5)


async def test_a_device_down_trap_makes_the_ordinary_down_fault_in_seconds_not_rounds(tmp_path, make_inventory, down_switch, sink):
    trap_port, syslog_port = free_port(socket.SOCK_DGRAM), free_port()
    closed = free_port()  # nothing listens: the server's service is down
    server = {"id": "srv", "name": "业务服务器", "kind": "server", "address": "127.0.0.5", "unit": "fgw", "system": "net",
              "probes": {"tcp": {"port": closed, "timeout": 0.3}}, "interval": 3600}
    config = fleet(down_switch, sink, trap_port, syslog_port, server=server)
    config["agent"]["debounce"] = {"down_after": 3, "up_after": 1}
    config["traps"]["rules"] = [{"oid": "1.3.6.1.4.1.99999.0.9", "name": "serviceStopped", "hint": "down", "text": "服务停止"}]
    inventory = make_inventory(config)
    with open_store(inventory.data_dir) as store:  # up when the agent last ran: an outage now, not one found at start
        store.add_transitions([Transition("srv", time.time() - 600, State.UP, State.UNKNOWN)])
    agent = Agent(inventory)
    await agent.start(schedule=False)
    try:
        took = await trap_to_chat(snmptrap_argv(trap_port, "", "1.3.6.1.4.1.99999.0.9", source="127.0.0.5"), tmp_path, sink, "业务服务器", timeout=6.0)
        assert took < 4.0  # three probes a second apart (down_after: 3), not three rounds of an hour
        assert titles(sink) == ["【三级故障】电子政务外网 业务服务器 中断"]  # the ordinary down fault, not a second one
        assert agent.tracker.state("srv")[0] == "down"
        log = EventLog(agent.db)
        assert await wait_until(lambda: any(s.outcome for s in log.search(device="srv")), 2.0) < 2.0
        assert log.search(device="srv")[0].outcome == "confirmed: device unreachable"
    finally:
        await agent.drain(5)
