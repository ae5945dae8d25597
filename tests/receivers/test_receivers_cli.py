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

from agent.cli import main
from agent.store import open_store
from core.events import Event
from receivers.eventlog import EventLog

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
        [sys.executable, "-m", "agent.cli", "probe", "trap-listen", "--listen", f"127.0.0.1:{port}", "-C", "yw", "--count", "1", "--seconds", "10"],
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
