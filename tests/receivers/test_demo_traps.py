"""``yunwei demo traps``: pushed events shown end to end, and a demo that fails loudly when the
behaviour it shows breaks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from collectors._snmp import ber, notify
from demo.chat_sink import ChatSink
from demo.traps import DemoFailed, Scene, first_round, lying_link_down, within


def yunwei(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, timeout=120)


def test_the_traps_demo_shows_a_confirmed_link_down_a_refuted_one_a_ups_on_battery_and_a_syslog_line(tmp_path: Path) -> None:
    done = yunwei("demo", "traps", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    chat = re.findall(r"^demo chat ◀ (.*)$", done.stderr, re.MULTILINE)  # what the DingTalk-compatible sink accepted
    assert chat == ["【二级故障】办公网络 机房核心交换机 GigabitEthernet0/0/24 链路中断", "【二级故障】办公网络 视频会议室 UPS UPS 市电中断, 电池供电"]
    assert "立即探测读到该端口仍为 up: 不开故障" in done.stderr  # the lying trap, said in Chinese
    assert "四步均符合预期" in done.stdout
    config = str(tmp_path / "demo-config.yaml")
    traps = yunwei("events", "-c", config, "--kind", "trap").stdout.splitlines()
    assert [line.split("[")[-1] for line in traps] == [
        "confirmed by the probe; fault opened]", "not confirmed by the probe]", "fault opened]"
    ]
    [syslog] = yunwei("events", "-c", config, "--kind", "syslog").stdout.splitlines()
    assert "access-sw" in syslog and "%%01SHELL/5/CMDRECORD" in syslog and "三楼会议室" in syslog  # sent in GBK
    faults = yunwei("faults", "list", "-c", config)
    assert faults.returncode == 0 and "机房核心交换机" in faults.stdout and "视频会议室 UPS" in faults.stdout
    assert "三楼接入交换机" not in faults.stdout
    again = yunwei("demo", "traps", "--data-dir", str(tmp_path))  # its open faults would swallow the new ones
    assert again.returncode == 2 and "needs a new folder" in again.stderr


async def test_the_demo_fails_loudly_when_a_link_down_it_calls_lying_opens_a_fault(tmp_path: Path) -> None:
    scene = Scene(tmp_path, ChatSink("tok", "SECtest"))
    try:
        await scene.start()
        await first_round(scene)
        scene.access.unplugged.add(1)  # the port is really down now: the probe confirms, a fault opens
        with pytest.raises(DemoFailed, match="虚假的 linkDown 应被探测否定"):
            await lying_link_down(scene)
        wanted = "三楼接入交换机 GigabitEthernet0/0/1 链路中断"  # the fault the demo stopped at is real
        assert await within(lambda: any(wanted in title for title in scene.titles()), 5.0) is not None, scene.titles()
    finally:
        await scene.stop()


def test_a_trap_encoded_by_the_project_decodes_as_sent() -> None:
    varbind = ber.VarBind((1, 3, 6, 1, 2, 1, 2, 2, 1, 1, 3), ber.INTEGER, 3)
    notification = notify.decode_community(notify.community_trap(b"demo-trap", (1, 3, 6, 1, 6, 3, 1, 1, 5, 3), [varbind], 4200, 9))
    assert (notification.community, notification.trap_oid, notification.uptime) == (b"demo-trap", (1, 3, 6, 1, 6, 3, 1, 1, 5, 3), 4200)
    assert notification.varbinds == [varbind] and notification.request_id == 9 and not notification.is_inform
