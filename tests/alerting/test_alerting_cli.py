"""``yunwei faults``: in-process for the workflow, and against a running ``yunwei run`` daemon."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest
import yaml
from alerting_platforms import Platform
from peers import Peer, free_port, wait_for

from cli.main import main
from store.db import Store
from store.faults import FaultStore

CONFIG = {
    "agent": {"id": "cli-test", "data_dir": "./data"},
    "units": [{"id": "fgw", "name": "市发改委"}],
    "systems": [{"id": "net", "name": "电子政务外网", "unit": "fgw"}],
    "defaults": {"probes": {"tcp": {"port": 22}}},
    "devices": [{"id": "pc-1", "name": "办公电脑", "kind": "pc", "address": "10.0.0.2", "unit": "fgw", "system": "net"}],
}


def write(tmp_path: Path, config: dict) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return str(path)


@pytest.fixture(autouse=True)
def engineer(monkeypatch):
    monkeypatch.setenv("YUNWEI_USER", "值班工程师")


def test_work_order_lifecycle_from_the_command_line(tmp_path, capsys):
    config = write(tmp_path, CONFIG)
    assert main(["faults", "open", "-c", config, "--level", "3", "--system", "net", "--cause", "打印机无法使用", "--by", "张三"]) == 0
    opened = capsys.readouterr().out
    assert "opened: level 3" in opened
    fault_id = opened.split()[0]
    assert main(["faults", "list", "-c", config]) == 0
    listing = capsys.readouterr().out
    assert fault_id in listing and "打印机无法使用" in listing and "待响应" in listing
    assert listing.split()[:9] == ["故障单", "级别", "状态", "对象", "原因", "开始", "响应时限", "修复时限", "响应人"]
    assert main(["faults", "ack", "-c", config, "1", "--by", "李四"]) == 0
    assert main(["faults", "ack", "-c", config, "1", "--by", "王五"]) == 2
    assert "already acknowledged by 李四" in capsys.readouterr().err
    assert main(["faults", "note", "-c", config, fault_id, "未修复", "--close"]) == 2
    assert "only a resolved fault can be closed" in capsys.readouterr().err
    assert main(["faults", "resolve", "-c", config, fault_id, "--by", "李四", "--note", "更换硒鼓"]) == 0
    assert main(["faults", "note", "-c", config, fault_id, "用户确认恢复", "--close", "--by", "李四"]) == 0
    capsys.readouterr()
    assert main(["faults", "show", "-c", config, fault_id]) == 0
    shown = capsys.readouterr().out
    for text in ("三级故障  closed", "acknowledged", "by 李四", "更换硒鼓", "用户确认恢复", "work_order by 张三"):
        assert text in shown, shown
    assert main(["faults", "list", "-c", config]) == 0
    assert "no faults open" in capsys.readouterr().out
    assert main(["faults", "list", "-c", config, "--all", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert (body["type"], body["id"], body["state"], body["acknowledged_by"], body["system"]) == ("fault", fault_id, "closed", "李四", "net")
    assert main(["faults", "outbox", "-c", config]) == 0
    assert "queued for the daemon" in capsys.readouterr().out
    assert main(["faults", "show", "-c", config, "F-999"]) == 2


def test_bad_input_is_one_line_and_exit_2_with_nothing_changed(tmp_path, capsys):
    config = write(tmp_path, CONFIG)
    assert main(["faults", "open", "-c", config, "--level", "3", "--device", "pc-1", "--cause", "打印机无法使用"]) == 0
    assert main(["faults", "resolve", "-c", config, "1", "--by", "李四"]) == 0
    capsys.readouterr()
    with Store(tmp_path / "data" / "yunwei.db") as store:
        before = store.db.execute("SELECT * FROM alert_faults").fetchall(), store.db.execute("SELECT COUNT(*) FROM alert_notices").fetchone()
    cases = [
        (["ack", "1", "--by", "王五"], "yunwei faults ack: F-", "is already resolved at "),
        (["ack", "F-404"], "yunwei faults ack: no fault 'F-404'", "yunwei faults list --all"),
        (["resolve", "404"], "yunwei faults resolve: no fault '404'", ""),
        (["resolve", "1"], "yunwei faults resolve: F-", "is already resolved"),
        (["note", "nope", "x"], "yunwei faults note: no fault 'nope'", ""),
        (["note", "1", "  "], "yunwei faults note: the note is empty", ""),
        (["show", "17"], "yunwei faults show: no fault '17'", ""),
        (["open", "--level", "3", "--device", "pc-1", "--cause", " "], "yunwei faults open: --cause is empty", ""),
        (["open", "--level", "3", "--device", "pc-9", "--cause", "x"], "command line: --device: unknown device 'pc-9'", "did you mean 'pc-1' (办公电脑)?"),
        (["list", "--days", "0"], "yunwei faults list: --days 0", ""),
    ]
    for argv, start, part in cases:
        assert main(["faults", argv[0], "-c", config, *argv[1:]]) == 2, argv
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"yunwei: {start}") and part in lines[0], (argv, captured.err)
        assert captured.out == "" and "Traceback" not in captured.err
    with pytest.raises(SystemExit) as caught:
        main(["faults", "open", "-c", config, "--level", "5", "--system", "net", "--cause", "x"])
    assert caught.value.code == 2
    assert "argument --level: invalid choice: 5" in capsys.readouterr().err
    with Store(tmp_path / "data" / "yunwei.db") as store:
        after = store.db.execute("SELECT * FROM alert_faults").fetchall(), store.db.execute("SELECT COUNT(*) FROM alert_notices").fetchone()
    assert after == before  # nothing half-written


@pytest.fixture
def dingtalk():
    platform = Platform("dingtalk", "SECdaemon").start()
    yield platform
    platform.stop()


def titles(platform: Platform) -> list[str]:
    return [body["markdown"]["title"] for body in platform.accepted]


def test_an_ack_from_the_cli_reaches_the_chat_while_the_daemon_runs(tmp_path, dingtalk):
    port = free_port()
    config = {
        **CONFIG,
        "agent": {"id": "cli-test", "data_dir": "./data", "debounce": {"down_after": 1, "up_after": 1}},
        "defaults": {},
        "devices": [
            {"id": "srv-1", "name": "业务服务器", "kind": "server", "address": "127.0.0.1", "unit": "fgw", "system": "net",
             "probes": {"tcp": {"port": port, "timeout": 0.5}}, "interval": 1}
        ],
        "alerting": {
            "hold_seconds": 0,
            "tick_seconds": 0.3,
            "rules": [{"kinds": "server", "level": 2}],
            "outbox": {"poll_seconds": 0.2},
            "channels": {"ops": {"type": "dingtalk", "url": dingtalk.url, "secret": "SECdaemon"}},
            "routes": [{"channels": ["ops"], "mention_mobiles": ["13800000001"]}],
        },
    }
    path = write(tmp_path, config)
    daemon = Peer([sys.executable, "-m", "cli.main", "run", "-c", path], tmp_path / "daemon.log", cwd=Path(__file__).resolve().parents[2])
    listener = None
    try:
        wait_for(lambda: len(dingtalk.accepted) >= 1, timeout=20, what="the startup message")
        daemon.assert_running()
        # down since before the start: told in the startup message, with its level (alerting.startup)
        assert titles(dingtalk)[0] == "启动: 0 台在线, 1 台离线 · 故障 1 个"
        assert "【二级故障】 **电子政务外网 业务服务器** 中断" in dingtalk.accepted[0]["markdown"]["text"]
        assert dingtalk.accepted[0]["at"]["atMobiles"] == ["13800000001"]
        assert main(["faults", "ack", "-c", path, "1", "--by", "张三"]) == 0
        wait_for(lambda: len(dingtalk.accepted) >= 2, timeout=10, what="the ack message")
        assert titles(dingtalk)[1] == "【已响应】电子政务外网 业务服务器 — 张三"
        listener = socket.create_server(("127.0.0.1", port))  # the server comes back
        wait_for(lambda: len(dingtalk.accepted) >= 3, timeout=15, what="the recovery message")
        assert titles(dingtalk)[2].startswith("【已恢复】电子政务外网 业务服务器, 持续")
    finally:
        daemon.stop()
        if listener is not None:
            listener.close()
    assert daemon.process.returncode == 0, daemon.log_text()[-2000:]
    with Store(tmp_path / "data" / "yunwei.db") as store:
        fault = FaultStore(store).get("1")
        assert fault is not None
        assert (fault.state, fault.acknowledged_by, fault.resolved_how) == ("resolved", "张三", "auto")
        assert len(dingtalk.accepted) == 3  # nothing sent twice


def test_ack_signs_with_a_name_never_the_login_and_takes_several_faults_or_a_group(tmp_path, capsys, monkeypatch):
    fleet = {**CONFIG, "groups": [{"id": "room", "name": "机房", "unit": "fgw", "system": "net"}],
             "devices": [{"id": f"pc-{i}", "name": f"办公电脑{i}", "kind": "pc", "address": f"10.0.0.{i}", "group": "room"}
                         for i in range(1, 5)]}
    config = write(tmp_path, fleet)
    for i in range(1, 5):
        assert main(["faults", "open", "-c", config, "--level", "3", "--device", f"pc-{i}", "--cause", "蓝屏"]) == 0
    monkeypatch.delenv("YUNWEI_USER")
    capsys.readouterr()
    assert main(["faults", "ack", "-c", config, "1"]) == 2
    assert capsys.readouterr().err.strip() == (
        "yunwei: command line: --by: say who you are: --by 张工 (or set $YUNWEI_USER, or alerting.engineer in the config)"
    )
    assert main(["faults", "ack", "-c", config, "1", "2", "--by", "张工", "--note", "已远程重启"]) == 0
    assert [line.split()[1:] for line in capsys.readouterr().out.splitlines()] == [["acknowledged", "by", "张工"]] * 2
    config = write(tmp_path, {**fleet, "alerting": {"engineer": "李工"}})
    assert main(["faults", "ack", "-c", config, "--group", "机房"]) == 2  # 1 and 2 were acknowledged already
    captured = capsys.readouterr()
    assert captured.out.count("acknowledged by 李工") == 2 and captured.err.count("already acknowledged by 张工") == 2
    with Store(tmp_path / "data" / "yunwei.db") as store:
        faults = {f.seq: f for f in FaultStore(store, "cli-test", "Asia/Shanghai").listing()}
    assert {seq: f.acknowledged_by for seq, f in faults.items()} == {1: "张工", 2: "张工", 3: "李工", 4: "李工"}
    assert faults[1].extra["ack_note"] == "已远程重启"
