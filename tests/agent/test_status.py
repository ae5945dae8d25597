"""``yunwei status``: what the engineer at the jump host sees, read from the store."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from agent.runtime import Agent
from cli.main import main
from inventory.config import load_config
from store.db import Store


def test_status_shows_states_errors_and_group_rates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    open_port = listener.getsockname()[1]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    config = tmp_path / "config.yaml"
    devices = "\n".join(
        f"  - {{id: cam{i}, name: 东门{i}, group: cams, address: 127.0.0.1,"
        f" probes: {{tcp: {{port: {closed_port if i == 0 else open_port}, timeout: 1}}}}}}"
        for i in range(4)
    )
    config.write_text(
        "agent: {id: t, data_dir: data, debounce: {down_after: 1, up_after: 1}}\n"
        "units: [{id: gaj, name: 市公安局}]\n"
        "groups:\n  - {id: cams, name: 蓝天卫士, unit: gaj, kind: camera, online_rate: {threshold: 0.95}}\n"
        f"devices:\n{devices}\n",
        encoding="utf-8",
    )

    async def one_round() -> None:
        agent = Agent(load_config(config), attach_hooks=False)
        await agent.start(schedule=False)
        await agent.run_all_once()
        await agent.drain()

    asyncio.run(one_round())
    listener.close()
    assert main(["status", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[2]: line for line in out.splitlines() if line.startswith("gaj ")}
    assert out.startswith("代理已于 ") and "停止 (" in out.splitlines()[0]  # drained a moment ago: not yet stale
    assert out.splitlines()[2].split() == ["单位", "分组", "设备编号", "名称", "类型", "状态", "起始", "延迟", "最近错误"]
    assert " 中断 " in rows["cam0"] and f"tcp: 连接被拒绝 (端口 {closed_port})" in rows["cam0"]
    assert all(" 正常 " in rows[f"cam{i}"] for i in (1, 2, 3))
    assert "4 台设备: 正常 3, 中断 1, 未知 0" in out
    [rate_line] = [line for line in out.splitlines() if line.startswith("蓝天卫士")]
    assert rate_line.split()[1:4] == ["3/4", "75.0", "%"] and "不达标: 低于阈值" in rate_line

    # with 1,500 cameras the engineer lists only what needs attention
    assert main(["status", "-c", str(config), "--problems"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[2] for line in out.splitlines() if line.startswith("gaj ")] == ["cam0"]
    assert "4 台设备: 正常 3, 中断 1" in out  # the totals still cover everything
    assert main(["status", "-c", str(config), "--group", "nope"]) == 2
    assert "--group: unknown group 'nope' (known: cams)" in capsys.readouterr().err

    # the daemon stopped long ago: say when it last ran and mark the states as stale
    with Store(tmp_path / "data" / "yunwei.db") as store:
        store.db.execute("UPDATE agent_runs SET started = started - 7200, last_seen = last_seen - 7200, stopped = stopped - 7200")
        store.db.commit()
    assert main(["status", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("⚠ 代理最近一次运行于 ") and "(2 小时前), 现已停止" in out.splitlines()[0]
    rows = {line.split()[2]: line for line in out.splitlines() if line.startswith("gaj ")}
    assert " 中断* " in rows["cam0"] and " 正常* " in rows["cam1"]

    config.write_text(config.read_text(encoding="utf-8").replace("id: t,", "id: t, language: en,"), encoding="utf-8")
    assert main(["status", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "the states below are stale" in out and f"tcp: connection refused (port {closed_port})" in out


def test_devices_not_seen_yet_are_left_out_of_the_live_rate(make_inventory) -> None:  # type: ignore[no-untyped-def]
    from agent.status import group_rates
    from core.model import State

    inventory = make_inventory(
        {
            "groups": [{"id": "cams", "name": "蓝天卫士", "online_rate": {"threshold": 0.95, "warn_margin": 0.01}}],
            "devices": [
                {"id": f"cam{i}", "group": "cams", "address": "127.0.0.1", "probes": {"tcp": {"port": 554}}}
                for i in range(40)
            ],
        }
    )
    [fresh] = group_rates(inventory, {})
    assert (fresh.rate, fresh.level, fresh.online_text()) == (None, "ok", "0/0 (40 unknown)")
    states = {f"cam{i}": (State.UP, 0.0) for i in range(36)}
    states["cam36"] = (State.DOWN, 0.0)
    states["cam37"] = (State.MAINTENANCE, 0.0)
    [rate] = group_rates(inventory, states)
    # 36 of the 37 observed are online (97.3 %): two never seen and one in maintenance are left out
    assert rate.online_text() == "36/37 (2 unknown, 1 maintenance)"
    assert rate.online_text("zh") == "36/37 (未知 2, 维护中 1)"
    assert rate.rate == 36 / 37 and rate.level == "ok"
