"""``yunwei demo traps``: pushed events. The real agent with its trap and syslog receivers on
loopback, three simulated devices, and four things they push (about 10 s, no terminal needed):

1. the core switch's meeting-room port really goes down and the switch sends linkDown: the
   confirming SNMP probe reads the port down, the fault reaches the chat within seconds;
2. the access switch sends a linkDown for a port that is up: the probe reads it up, no fault;
3. the conference-room UPS loses mains and sends upsTrapOnBattery (UPS-MIB): its threshold
   fault reaches the chat from the trap alone;
4. the access switch sends a Huawei syslog line in GBK: stored, shown by ``yunwei events``.

Traps are encoded by the project's own BER codec (``collectors._snmp.notify.community_trap``)
and sent from the device's loopback address, so the receiver matches them by source as it
would on a site. Each step checks its outcome; a step that does not turn out as told ends the
demo with exit code 1 and says which.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from agent.runtime import Agent
from collectors._snmp import ber, notify, oids
from collectors._snmp.ber import VarBind
from demo.chat_sink import ChatSink
from demo.fleet import yunwei_command
from demo.network import COMMUNITY, Mib, SimulatedSwitch, SnmpResponder, conference_ups_mib
from inventory.config import load_config
from store.events import EventLog, StoredEvent
from store.lock import agent_lock

TRAP_COMMUNITY = "demo-trap"
CORE, ACCESS, UPS = "127.0.9.1", "127.0.9.2", "127.0.9.3"
LINK_DOWN = (*notify.SNMP_TRAPS, 3)
UPS_ON_BATTERY = (1, 3, 6, 1, 2, 1, 33, 2, 1)  # UPS-MIB upsTraps.1, upsTrapOnBattery
IF_INDEX, IF_ADMIN_STATUS = (1, 3, 6, 1, 2, 1, 2, 2, 1, 1), (1, 3, 6, 1, 2, 1, 2, 2, 1, 7)
MEETING_ROOM_PORT = 3  # GigabitEthernet0/0/24 on the simulated switch
INTERFACES = ["GigabitEthernet0/0/1", "GigabitEthernet0/0/2", "GigabitEthernet0/0/24"]
STEP_SECONDS = 5.0  # a step's outcome must show within this (it takes ~0.1 s; the receivers promise 2 s)
ZONE = "Asia/Shanghai"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class DemoFailed(Exception):
    """A step did not turn out as the demo says it does."""


def say(text: str) -> None:
    print(f"demo: {text}", file=sys.stderr, flush=True)


def expect(condition: object, failure: str) -> None:
    if not condition:
        raise DemoFailed(failure)


async def within(check: Callable[[], Any], seconds: float) -> float | None:
    """Seconds until ``check()`` held, or None if it did not within ``seconds``."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    return None


class OnBatteryUps:
    """The conference room's UPS (UPS-MIB over SNMP): on mains until ``lose_mains()``."""

    def __init__(self) -> None:
        self.mains_lost_at: float | None = None

    def lose_mains(self) -> None:
        self.mains_lost_at = time.monotonic()

    def mib(self) -> Mib:
        mib = conference_ups_mib()
        mib[oids.UPS_MINUTES_REMAINING] = (ber.INTEGER, 200)
        if self.mains_lost_at is not None:
            mib.update({
                oids.UPS_BATTERY_STATUS: (ber.INTEGER, 2),
                oids.UPS_SECONDS_ON_BATTERY: (ber.INTEGER, int(time.monotonic() - self.mains_lost_at)),
                oids.UPS_MINUTES_REMAINING: (ber.INTEGER, 180),
                oids.UPS_INPUT_VOLTAGE_1: (ber.INTEGER, 0),
                oids.UPS_OUTPUT_SOURCE: (ber.INTEGER, 5),  # battery
            })
        return mib


def send_from(source: str, port: int, datagram: bytes) -> None:
    """One UDP datagram to the agent's receiver, from a device's own loopback address."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.sendto(datagram, ("127.0.0.1", port))


def link_down(switch: SimulatedSwitch, index: int, request_id: int) -> bytes:
    uptime = int(time.monotonic() - switch.booted) * 100
    varbinds = [VarBind((*IF_INDEX, index), ber.INTEGER, index), VarBind((*IF_ADMIN_STATUS, index), ber.INTEGER, 1),
                VarBind((*oids.IF_OPER_STATUS, index), ber.INTEGER, 2)]
    return notify.community_trap(TRAP_COMMUNITY.encode(), LINK_DOWN, varbinds, uptime, request_id)


def huawei_syslog(host: str, at: float) -> bytes:
    """A Huawei VRP command record as the switch sends it: RFC 3164 with the year in the stamp, in GBK."""
    local = datetime.fromtimestamp(at, ZoneInfo(ZONE))
    stamp = f"{MONTHS[local.month - 1]} {local.day:2d} {local:%Y %H:%M:%S}"
    text = (f"<189>{stamp} {host} %%01SHELL/5/CMDRECORD(s)[12]:Recorded command information. (Task=VT0, Ip=10.1.0.8, "
            'VpnName=, User=admin, AuthenticationMethod="Local-user", Command="description 三楼会议室 (张工 改)")')
    return text.encode("gbk")


def free_port() -> int:
    """A loopback port free for UDP and TCP (syslog listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket() as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise OSError("no free loopback port")


@dataclass
class Scene:
    """The demo's devices, sink and agent, and what the steps need to reach them."""

    data_dir: Path
    sink: ChatSink
    core: SimulatedSwitch = field(default_factory=lambda: SimulatedSwitch(0, "JF-Core-S5735"))
    access: SimulatedSwitch = field(default_factory=lambda: SimulatedSwitch(0, "SL-Access-S5735"))
    ups: OnBatteryUps = field(default_factory=OnBatteryUps)
    snmp_port: int = 0
    trap_port: int = 0
    syslog_port: int = 0
    transports: list[asyncio.DatagramTransport] = field(default_factory=list)
    agent: Agent | None = None
    events: EventLog | None = None

    @property
    def config_path(self) -> Path:
        return self.data_dir / "demo-config.yaml"

    def titles(self) -> list[str]:
        return [m["markdown"]["title"] for m in self.sink.received]

    def config(self) -> dict[str, Any]:
        snmp = {"community": COMMUNITY, "port": self.snmp_port, "timeout": 1, "retries": 1}
        place = {"unit": "demo-fgw", "system": "demo-lan"}
        return {
            "agent": {"id": "demo-traps", "data_dir": str(self.data_dir), "default_interval": 60, "jitter": 0,
                      "timezone": ZONE, "debounce": {"down_after": 2, "up_after": 1}},
            "units": [{"id": "demo-fgw", "name": "示范发改委"}],
            "systems": [{"id": "demo-lan", "name": "办公网络", "unit": "demo-fgw"}],
            "devices": [
                {"id": "core-sw", "name": "机房核心交换机", "kind": "switch", "address": CORE, **place,
                 "probes": {"snmp": {**snmp, "interfaces": INTERFACES}}},
                {"id": "access-sw", "name": "三楼接入交换机", "kind": "switch", "address": ACCESS, **place,
                 "probes": {"snmp": {**snmp, "interfaces": INTERFACES}}},
                {"id": "ups-vc", "name": "视频会议室 UPS", "kind": "ups", "address": UPS, **place,
                 "probes": {"ups": {**snmp, "source": "snmp"}}},
            ],
            "alerting": {
                "hold_seconds": 0, "tick_seconds": 0.5, "outbox": {"poll_seconds": 0.2},
                "rules": [{"sources": "event", "kinds": ["switch"], "level": 2}],
                "thresholds": [{"name": "ups-on-battery", "metric": "on_battery", "op": "==", "value": 1, "probes": ["ups"],
                                "label": "UPS 市电中断, 电池供电", "level": 2}],
                "channels": {"demo-dingtalk": {"type": "dingtalk", "url": self.sink.url, "secret": self.sink.secret}},
                "routes": [{"channels": ["demo-dingtalk"]}],
            },
            "traps": {"listen": f"127.0.0.1:{self.trap_port}", "communities": [TRAP_COMMUNITY]},
            "syslog": {"listen": f"127.0.0.1:{self.syslog_port}"},
        }

    async def start(self) -> None:
        self.sink.start()
        self.snmp_port = free_port()
        self.trap_port, self.syslog_port = free_port(), free_port()
        loop = asyncio.get_running_loop()
        for host, mib in ((CORE, self.core.mib), (ACCESS, self.access.mib), (UPS, self.ups.mib)):
            transport, _ = await loop.create_datagram_endpoint(partial(SnmpResponder, COMMUNITY, mib), local_addr=(host, self.snmp_port))
            self.transports.append(transport)  # type: ignore[arg-type]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.config(), allow_unicode=True, sort_keys=False), encoding="utf-8")
        self.agent = Agent(load_config(self.config_path))
        await self.agent.start()
        self.events = await self.agent.in_writer(EventLog, self.agent.db)

    async def stop(self) -> None:
        if self.agent is not None:
            await self.agent.drain(10)
        for transport in self.transports:
            transport.close()
        self.sink.stop()

    async def stored(self, device: str, kind: str, since: float) -> list[StoredEvent]:
        assert self.agent is not None and self.events is not None
        return await self.agent.in_writer(self.events.search, device, since, 1e18, kind)

    async def outcome_within(self, device: str, name: str, since: float) -> str | None:
        """What the agent did with the device's event of that name received since ``since``, once it says."""
        started = time.monotonic()
        while time.monotonic() - started < STEP_SECONDS:
            found = [s for s in await self.stored(device, "trap", since) if s.event.name == name]
            if found and found[0].outcome:
                return found[0].outcome
            await asyncio.sleep(0.05)
        return None


async def first_round(scene: Scene) -> None:
    assert scene.agent is not None
    agent = scene.agent
    say(f"启动采集代理: trap 接收 127.0.0.1:{scene.trap_port}/udp, syslog 接收 127.0.0.1:{scene.syslog_port};"
        " 三台模拟设备在 127.0.9.x")
    took = await within(lambda: all(agent.stats[key].rounds >= 1 for key in agent.groups), 10.0)
    expect(took is not None, "首轮采集 10 秒内没有完成")
    states = {device: agent.tracker.state(device)[0] for device in agent.inventory.devices}
    expect(all(state == "up" for state in states.values()), f"首轮采集后设备应全部正常, 实际: {states}")
    say("首轮 SNMP 采集完成, 三台设备均正常 (代理已知交换机各端口的 ifIndex)")


async def real_link_down(scene: Scene) -> None:
    say("第 1 步: 机房核心交换机 GigabitEthernet0/0/24 (会议室) 网线被拔, 交换机发出 linkDown trap")
    scene.core.unplugged.add(MEETING_ROOM_PORT)
    sent, since = time.monotonic(), time.time()
    send_from(CORE, scene.trap_port, link_down(scene.core, MEETING_ROOM_PORT, 101))
    wanted = "机房核心交换机 GigabitEthernet0/0/24 链路中断"
    took = await within(lambda: any(wanted in title for title in scene.titles()), STEP_SECONDS)
    expect(took is not None, f"{STEP_SECONDS:g} 秒内群里没有收到「{wanted}」; 收到: {scene.titles()}")
    outcome = await scene.outcome_within("core-sw", "linkDown", since)
    expect(outcome == "confirmed by the probe; fault opened", f"linkDown 的处理结果应为确认并开故障, 实际: {outcome!r}")
    say(f"✓ 立即探测读到该端口确为 down, 故障已开, {time.monotonic() - sent:.2f} 秒内推送到钉钉群")


async def lying_link_down(scene: Scene) -> None:
    say("第 2 步: 三楼接入交换机发来 linkDown trap (GigabitEthernet0/0/1), 但该端口实际正常")
    before, since = len(scene.sink.received), time.time()
    send_from(ACCESS, scene.trap_port, link_down(scene.access, 1, 201))
    outcome = await scene.outcome_within("access-sw", "linkDown", since)
    expect(outcome == "not confirmed by the probe", f"虚假的 linkDown 应被探测否定, 实际处理结果: {outcome!r}")
    await asyncio.sleep(1.0)  # a fault, had one opened, would be in the chat by now
    late = [title for title in scene.titles()[before:] if "三楼接入交换机" in title]
    expect(not late, f"虚假的 linkDown 不应产生故障, 群里却收到: {late}")
    say("✓ 立即探测读到该端口仍为 up: 不开故障, 不发群消息 (事件记为「未被探测确认」)")


async def ups_on_battery(scene: Scene) -> None:
    say("第 3 步: 视频会议室 UPS 市电中断, UPS 发出 upsTrapOnBattery (UPS-MIB), 预计剩余 180 分钟")
    scene.ups.lose_mains()
    sent, since = time.monotonic(), time.time()
    minutes = [VarBind(oids.UPS_MINUTES_REMAINING, ber.INTEGER, 180)]
    send_from(UPS, scene.trap_port, notify.community_trap(TRAP_COMMUNITY.encode(), UPS_ON_BATTERY, minutes, 360000, 301))
    wanted = "视频会议室 UPS UPS 市电中断, 电池供电"
    took = await within(lambda: any(wanted in title for title in scene.titles()), STEP_SECONDS)
    expect(took is not None, f"{STEP_SECONDS:g} 秒内群里没有收到「{wanted}」; 收到: {scene.titles()}")
    outcome = await scene.outcome_within("ups-vc", "upsTrapOnBattery", since)
    expect(outcome is not None and "fault opened" in outcome, f"upsTrapOnBattery 的处理结果应为开故障, 实际: {outcome!r}")
    say(f"✓ UPS 阈值故障 (on_battery == 1) 由 trap 直接打开, {time.monotonic() - sent:.2f} 秒内推送到钉钉群")
    assert scene.agent is not None
    messages = len(scene.sink.received)
    ups_round = next(key for key in scene.agent.groups if key[0] == "ups")
    result = await scene.agent.run_round(ups_round)  # the UPS's next scheduled poll, run now rather than in a minute
    polled = next((s for s in result.samples if s.device == "ups-vc"), None) if result else None
    expect(polled is not None and polled.metrics.get("on_battery") == 1, f"轮询应读到 UPS 电池供电, 实际: {polled}")
    await asyncio.sleep(1.0)
    expect(len(scene.sink.received) == messages, f"轮询与 trap 说的是同一件事, 不应再发消息: {scene.titles()[messages:]}")
    say("✓ 随后的 UPS 轮询也读到电池供电: 仍是同一个故障, 群里没有第二条")


async def syslog_line(scene: Scene) -> None:
    say("第 4 步: 三楼接入交换机通过 syslog 发来一条华为格式日志 (GBK 编码, 含中文)")
    since = time.time() - 1  # the line's own stamp is whole seconds
    send_from(ACCESS, scene.syslog_port, huawei_syslog("SL-Access-S5735", time.time()))
    found: list[StoredEvent] = []

    async def arrived() -> bool:
        found[:] = await scene.stored("access-sw", "syslog", since)
        return bool(found)

    started = time.monotonic()
    while time.monotonic() - started < STEP_SECONDS and not await arrived():
        await asyncio.sleep(0.05)
    expect(found, f"{STEP_SECONDS:g} 秒内 syslog 日志没有入库")
    expect("三楼会议室" in found[0].event.message, f"GBK 中文应被正确解码, 实际: {found[0].event.message!r}")
    say("✓ 日志已按来源地址归到三楼接入交换机并入库 (GBK 已解码), 见下面 yunwei events 的输出")


STEPS = (first_round, real_link_down, lying_link_down, ups_on_battery, syslog_line)


def show_events(config: Path) -> str:
    """``yunwei events`` on the demo's store: every trap and syslog line with what the agent did."""
    done = subprocess.run([sys.executable, "-m", "cli.main", "events", "-c", str(config), "--since", "1h"],
                          capture_output=True, text=True, timeout=60)
    expect(done.returncode == 0, f"yunwei events 失败: {done.stderr[-500:]}")
    return done.stdout


async def _traps_demo(data_dir: Path) -> int:
    scene = Scene(data_dir, ChatSink(token=secrets.token_hex(8), secret="SEC" + secrets.token_hex(16)))
    began = time.monotonic()
    try:
        await scene.start()
        for step in STEPS:
            await step(scene)
    except DemoFailed as failure:
        print(f"demo: ✗ 演示失败: {failure}", file=sys.stderr, flush=True)
        return 1
    finally:
        await scene.stop()
    print(f"\nyunwei events -c {scene.config_path} (the demo's traps and syslog lines, with what the agent did):")
    print(show_events(scene.config_path), end="")
    print(f"\n四步均符合预期 ({time.monotonic() - began:.0f} 秒): 群里 {len(scene.sink.received)} 条消息, 虚假 trap 未产生故障。")
    return 0


def run_traps_demo(data_dir: str | None = None) -> int:
    data_dir = data_dir or tempfile.mkdtemp(prefix="yunwei-demo-traps-")
    if (Path(data_dir) / "yunwei.db").exists():  # its open faults would swallow the demo's new ones
        print(f"demo: {data_dir} already holds a store; the traps demo needs a new folder", file=sys.stderr)
        return 2
    with agent_lock(Path(data_dir)):
        code = asyncio.run(_traps_demo(Path(data_dir)))
    config = Path(data_dir) / "demo-config.yaml"
    yunwei = yunwei_command()
    print(f"\nThe demo's store and config are kept in {data_dir}; try:\n  {yunwei} events -c {config}\n"
          f"  {yunwei} faults list -c {config}", file=sys.stderr)
    return code
