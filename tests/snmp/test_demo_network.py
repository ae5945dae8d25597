"""The network demo part: the production agent and collectors against the in-process switch,
line and UPS simulators; the story they tell is the one the part promises."""

from __future__ import annotations

from pathlib import Path

import pytest

import demo.fleet
from store.db import open_store


async def test_network_demo_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(demo.fleet, "DEMO_PARTS", ("demo.network",))
    assert await demo.fleet._demo(20.0, tmp_path) == 0
    out = capsys.readouterr().out
    events = out.split("Network, line and UPS events:")[1]
    order = [
        "12345 热线 UPS: on mains",
        "12345 热线 UPS: mains lost, on battery",
        "12345 热线 UPS: LOW BATTERY",
        "12345 热线 UPS: on mains again after",
    ]
    positions = [events.index(text) for text in order]
    assert positions == sorted(positions)
    assert "视频会议室 UPS (32 节电池): runtime 95 min is below the required 3 h" in events
    assert "电子政务外网 100M 专线: DEGRADED: utilisation" in events
    assert "机房核心交换机 S5735: interface GigabitEthernet0/0/24 DOWN" in events
    assert "机房核心交换机 S5735: uptime went from" in events  # the reboot near the end
    with open_store(tmp_path) as store:
        latest = {s.device: s for s in store.latest_samples()}
    switch = latest["core-sw"]
    assert switch.ok and switch.info["sys_name"] == "JF-Core-S5735"
    assert 8 <= switch.metrics["cpu_percent"] <= 55 and 41 <= switch.metrics["temperature_c"] <= 44
    assert switch.metrics["if.GigabitEthernet0/0/1.speed_bps"] == 1e9
    assert latest["ups-vc"].metrics["runtime_below_required"] == 1
    assert latest["line-egov"].metrics["bandwidth_down_bps"] == 100e6
