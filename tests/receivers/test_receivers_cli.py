"""``yunwei events`` searches what the receivers stored; ``yunwei probe trap-listen`` prints what arrives."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml
from peers import free_port, need_binary

from cli.main import main
from core.events import Event
from store.db import open_store
from store.events import EventLog

REPO = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path) -> str:
    path = tmp_path / "config.yaml"
    config = {
        "agent": {"data_dir": str(tmp_path / "data")},
        "devices": [{"id": "core-sw", "kind": "switch", "address": "127.0.0.3", "probes": {"icmp": {}}}],
    }
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_events_are_searchable_by_device_kind_time_and_text(tmp_path, capsys):
    path = _config(tmp_path)
    now = time.time()
    with open_store(tmp_path / "data") as store:
        log = EventLog(store)
        log.add([
            Event("trap", "127.0.0.3", now - 7200, "linkDown", device="core-sw", oid="1.3.6.1.6.3.1.1.5.3", hint="down",
                  subject="GE0/0/1", text="GE0/0/1 链路中断", varbinds={"1.3.6.1.2.1.2.2.1.1.1": "1"}),
            Event("syslog", "127.0.0.3", now - 60, "LINK_STATE", device="core-sw", hint="up", subject="GE0/0/1",
                  text="GE0/0/1 链路恢复", message="%%01IFNET/4/LINK_STATE(l)[1]:... UP state."),
            Event("syslog", "10.9.9.9", now - 30, "sshd", message="Failed password for root"),
        ], outcome="")
    assert main(["events", "-c", path, "--device", "core-sw", "--since", "3h"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "linkDown ↓ GE0/0/1: GE0/0/1 链路中断" in lines[0] and "LINK_STATE ↑" in lines[1]
    assert main(["events", "-c", path, "--kind", "syslog", "--since", "1h", "--json"]) == 0
    bodies = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [b["name"] for b in bodies] == ["LINK_STATE", "sshd"]
    assert main(["events", "-c", path, "--grep", "Failed password"]) == 0
    assert "10.9.9.9" in capsys.readouterr().out
    assert main(["events", "-c", path, "--since", "last tuesday"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_trap_listen_prints_what_a_device_sends(tmp_path):
    snmptrap = need_binary("snmptrap")
    port = free_port(socket.SOCK_DGRAM)
    listener = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "probe", "trap-listen", "--listen", f"127.0.0.1:{port}", "-C", "yw", "--count", "1", "--seconds", "10"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while listener.poll() is None and time.monotonic() < deadline:
            subprocess.run([snmptrap, "-v2c", "-c", "yw", f"127.0.0.1:{port}", "", "1.3.6.1.2.1.33.2.1"],
                           env={"MIBS": "", "SNMP_PERSISTENT_DIR": str(tmp_path)}, check=True)
            try:
                listener.wait(0.5)
            except subprocess.TimeoutExpired:
                continue
        out, err = listener.communicate(timeout=10)
    finally:
        if listener.poll() is None:
            listener.kill()
    assert listener.returncode == 0, err
    assert "upsTrapOnBattery ↓ on_battery: UPS 市电中断, 电池供电" in out
    assert '"events": 1' in err


def test_bad_receiver_settings_are_named_by_file_line_and_field(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text(
        "devices:\n  - {id: sw, address: 127.0.0.3, probes: {icmp: {}}}\n"
        "traps:\n  listen: 0.0.0.0:http\n  rules:\n    - {oid: not.an.oid, name: x}\n"
        "syslog:\n  listen: 0.0.0.0:514\n  rules:\n    - {match: '(unclosed', name: y, devices: [nosuch]}\n"
    )
    assert main(["check", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:4: traps.listen:" in err
    assert f"{path}:6: traps.rules.0.oid:" in err and "numeric OID" in err
    assert f"{path}:10: syslog.rules.0.match:" in err and "not a regular expression" in err


def test_the_daemon_refuses_to_start_when_the_trap_port_is_taken(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        path = tmp_path / "config.yaml"
        config = {"agent": {"data_dir": str(tmp_path / "data")}, "traps": {"listen": f"127.0.0.1:{port}", "communities": ["x"]}}
        path.write_text(yaml.safe_dump(config))
        result = subprocess.run([sys.executable, "-m", "cli.main", "run", "-c", str(path)], cwd=REPO, capture_output=True,
                                text=True, timeout=60)
    assert result.returncode == 2
    assert f"{path}: traps.listen: cannot listen: Address already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_shows_recent_events_when_a_receiver_is_configured(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    config = {
        "agent": {"data_dir": str(tmp_path / "data")},
        "devices": [{"id": "core-sw", "name": "核心交换机", "kind": "switch", "address": "127.0.0.3", "probes": {"icmp": {}}}],
        "traps": {"listen": "127.0.0.1:1162", "communities": ["x"]},
    }
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    with open_store(tmp_path / "data") as store:
        EventLog(store).add([
            Event("trap", "127.0.0.3", time.time() - 60, "linkDown", device="core-sw", hint="down", subject="GE0/0/1", text="GE0/0/1 链路中断"),
            Event("trap", "127.0.0.3", time.time() - 30, "coldStart", device="core-sw", text="设备重启"),
        ], outcome="confirmed by the probe; fault opened")
        EventLog(store).add([Event("syslog", "10.9.9.9", time.time() - 10, "kernel", message="eth0 up")] * 3)
        EventLog(store).save_stats("traps", {"rejected": {"wrong community": 4}, "rate_limited": 120}, time.time())
    assert main(["status", "-c", str(path)]) == 0
    out = capsys.readouterr().out
    assert "告警/日志事件 (近 24 小时): 5 条" in out
    assert "未登记的来源地址: 10.9.9.9 (3)" in out
    assert "拒收/丢弃 (traps): wrong community 4; rate_limited 120" in out
    assert "核心交换机: GE0/0/1 链路中断  [confirmed by the probe; fault opened]" in out


def test_retention_prunes_each_kind_on_its_own(tmp_path):
    now = time.time()
    with open_store(tmp_path / "data") as store:
        log = EventLog(store)
        log.add([Event("trap", "a", now - 100 * 86400, "old-trap"), Event("trap", "a", now - 10, "new-trap"),
                 Event("syslog", "a", now - 100 * 86400, "old-line")])
        assert log.prune("trap", now - 90 * 86400) == 1
        assert sorted(s.event.name for s in log.search()) == ["new-trap", "old-line"]
