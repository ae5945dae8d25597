"""The video demo part: the production agent against in-process cameras, terminals and an MCU."""

from __future__ import annotations

from pathlib import Path

import pytest

import demo.fleet
from store.db import open_store


async def test_video_demo_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(demo.fleet, "DEMO_PARTS", ("demo.video",))
    assert await demo.fleet._demo(14.0, tmp_path) == 0
    captured = capsys.readouterr()
    out = captured.out
    rate = next(line for line in out.splitlines() if line.startswith("蓝天卫士 40 路"))
    assert "37/40" in rate and "92.5 %" in rate and "不达标" in rate  # dipped under its 95 %
    rows = {line.split()[2]: line for line in out.splitlines() if line.startswith(("demo-video-gaj", "demo-ybj"))}
    assert "中断" in rows["kk-cam-001"] and "认证失败" in rows["kk-cam-001"]
    assert " 正常 " in rows["lt-cam-004"] and " 正常 " in rows["demo-mcu"]
    assert "中断" in rows["demo-vc-2"] and "SIP" in rows["demo-vc-2"]
    assert "2/3 venues ready" in out and "遵义会场     NOT READY" in out
    assert "2 cameras offline: 95 %, warning" in captured.err
    with open_store(tmp_path) as store:
        latest = {(s.device, s.probe): s for s in store.latest_samples()}
        [check] = [body for _, _, _, _, body in store.events(["record"]) if body["kind"] == "meeting_check"]
    camera = latest[("lt-cam-010", "rtsp")]
    assert camera.info["media"] == "video,audio" and camera.info["codecs"] == "H264,PCMA"
    assert latest[("demo-vc-1", "sip")].info["user_agent"] == "Yealink VC800 63.345.0.15"
    assert check["unit"] == "demo-ybj" and check["ready"] is False
