"""What the command line changes is in the console's audit chain: ``yunwei faults ...`` and
``yunwei record ...`` run as their own processes beside the console, and the chain stays whole."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from web_support import add_users, console_client, csrf_of, login, write_config

from alerting import lifecycle
from inventory.config import load_config
from store.audit import AuditTrail
from store.db import open_store
from store.faults import FaultStore
from web import audit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config_path(tmp_path):
    path = write_config(tmp_path)
    add_users(path)
    return path


def yunwei(*words: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m cli.main WORDS`` in its own process, as an engineer's shell runs it."""
    env = {k: v for k, v in os.environ.items() if k != "YUNWEI_USER"}
    if user is not None:
        env["YUNWEI_USER"] = user
    return subprocess.run([sys.executable, "-m", "cli.main", *words], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def trail_of(config_path: Path) -> list[audit.AuditEntry]:
    with open_store(load_config(config_path).data_dir) as store:
        return audit.entries(AuditTrail(store))


def open_fault(config_path: Path, level: int = 1) -> str:
    inventory = load_config(config_path)
    with open_store(inventory.data_dir) as store:
        faults = FaultStore(store, inventory.agent.id, inventory.agent.timezone)
        return lifecycle.open_manual(faults, inventory, level, "核心交换机宕机", "值班", time.time(), device="sw-1").id


def test_fault_actions_from_the_shell_are_in_the_chain_with_who_signed_and_who_typed(config_path):
    config = str(config_path)
    fault = open_fault(config_path)
    assert yunwei("faults", "ack", "-c", config, fault, "--by", "张工", "--note", "已到现场").returncode == 0
    assert yunwei("faults", "resolve", "-c", config, fault, user="李工").returncode == 0
    assert yunwei("faults", "note", "-c", config, fault, "更换了电源模块", "--close", "--by", "张工").returncode == 0
    opened = yunwei("faults", "open", "-c", config, "--level", "3", "--cause", "打印机卡纸", "--device", "sw-1", "--by", "王工")
    assert opened.returncode == 0, opened.stderr
    work_order = opened.stdout.split()[0]

    entries = trail_of(config_path)
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("张工", "fault.ack", fault), ("李工", "fault.resolve", fault), ("张工", "fault.note", fault),
        ("王工", "fault.open", work_order),
    ]
    assert all(e.detail["via"] == "cli" and e.detail["login"] == getpass.getuser() and e.address == "local" for e in entries)
    assert entries[0].detail["note"] == "已到现场" and entries[2].detail["close"] is True
    assert entries[3].detail["level"] == 3

    listing = yunwei("audit", "list", "-c", config)
    assert listing.returncode == 0
    ack_line = next(line for line in listing.stdout.splitlines() if "fault.ack" in line)
    assert "张工" in ack_line and f"cli ({getpass.getuser()})" in ack_line and fault in ack_line and "已到现场" in ack_line
    verify = yunwei("audit", "verify", "-c", config)
    assert (verify.returncode, verify.stdout.strip()) == (0, "audit chain intact: 4 entries")


def test_a_refused_action_leaves_no_entry(config_path):
    config = str(config_path)
    fault = open_fault(config_path)
    assert yunwei("faults", "ack", "-c", config, "F-19990101-0001", "--by", "张工").returncode == 2  # no such fault
    assert yunwei("faults", "ack", "-c", config, fault).returncode == 2  # nobody signs
    assert yunwei("faults", "note", "-c", config, fault, "x", "--close", "--by", "张工").returncode == 2  # not resolved
    assert yunwei("faults", "open", "-c", config, "--level", "2", "--cause", "x", "--device", "nope", "--by", "张工").returncode == 2
    assert trail_of(config_path) == []
    # of several faults, the one done is written and the one refused is not
    assert yunwei("faults", "ack", "-c", config, fault, "F-19990101-0001", "--by", "张工").returncode == 2
    assert [(e.action, e.target) for e in trail_of(config_path)] == [("fault.ack", fault)]
    assert yunwei("faults", "ack", "-c", config, fault, "--by", "李工").returncode == 2  # already acknowledged
    assert len(trail_of(config_path)) == 1


def test_records_from_the_shell_name_the_login_when_nobody_signs(config_path):
    config = str(config_path)
    visit = yunwei("record", "visit", "-c", config, "--unit", "psb", "--at", "2026-11-05 10:00", "--note", "回访")
    assert visit.returncode == 0, visit.stderr
    uid = visit.stdout.strip().rsplit(" ", 1)[-1]
    assert yunwei("record", "visit", "-c", config, "--unit", "psb", "--at", "2026-11-05 10:00", "--note", "回访").returncode == 0
    assert "unchanged" in yunwei("record", "visit", "-c", config, "--unit", "psb", "--at", "2026-11-05 10:00",
                                 "--note", "回访").stdout  # given again: nothing changed, nothing written
    assert yunwei("record", "vuln", "-c", config, "--id", "V-7", "--unit", "psb", "--severity", "high",
                  "--found", "2026-11-01 09:00", user="张工").returncode == 0
    assert yunwei("record", "vuln", "-c", config, "--id", "V-7", "--fixed", "2026-11-06 09:00", user="张工").returncode == 0
    assert yunwei("record", "visit", "-c", config, "--unit", "no-such-unit").returncode == 2

    entries = trail_of(config_path)
    assert [(e.actor, e.action, e.target) for e in entries] == [
        (f"cli:{getpass.getuser()}", "record.add", uid), ("cli:张工", "record.add", "vuln:V-7"),
        ("cli:张工", "record.update", "vuln:V-7"),
    ]
    assert entries[0].detail == {"via": "cli", "login": getpass.getuser(), "kind": "visit"}
    assert yunwei("audit", "verify", "-c", config).returncode == 0


def test_a_ledger_import_that_adds_is_audited_once_and_a_repeated_one_not(config_path, tmp_path):
    config = str(config_path)
    assert yunwei("record", "visit", "-c", config, "--unit", "psb", "--at", "2026-11-05 10:00").returncode == 0
    exported = tmp_path / "ledger.jsonl"
    assert yunwei("ledger", "export", "-c", config, "-o", str(exported)).returncode == 0
    (tmp_path / "other").mkdir()
    other = write_config(tmp_path / "other")
    for _ in range(2):  # the second import adds nothing
        done = yunwei("ledger", "import", "-c", str(other), str(exported), user="张工")
        assert done.returncode == 0, done.stderr
    entries = trail_of(other)
    assert [(e.actor, e.action, e.target) for e in entries] == [("cli:张工", "ledger.import", str(exported))]
    assert entries[0].detail["added"] >= 1 and entries[0].detail["via"] == "cli"


async def test_shell_and_console_actions_interleave_into_one_intact_chain(config_path):
    config = str(config_path)
    faults = [open_fault(config_path, level=2) for _ in range(4)]
    client, console = await console_client(config_path)
    try:
        await login(client, "eng1")  # the console's own entry: login
        token = await csrf_of(client, f"/faults/{faults[0]}")
        response = await client.post(f"/faults/{faults[0]}/ack", data={"csrf": token}, allow_redirects=False)
        assert response.status == 303 and "error" not in response.headers["Location"]
        assert yunwei("faults", "ack", "-c", config, faults[1], "--by", "张工").returncode == 0
        # two shells and the console writing at once: each append reads the head in its own transaction
        shells = [subprocess.Popen([sys.executable, "-m", "cli.main", "faults", "note", "-c", config, fault, f"巡查 {n}",
                                    "--by", f"工程师{n}"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                  for n, fault in enumerate(faults[2:])]
        for n in range(3):
            token = await csrf_of(client, f"/faults/{faults[0]}")
            response = await client.post(f"/faults/{faults[0]}/note", data={"csrf": token, "note": f"网页备注 {n}"},
                                         allow_redirects=False)
            assert response.status == 303
        for shell in shells:
            assert shell.wait(timeout=60) == 0, shell.stderr.read() if shell.stderr else ""
        assert yunwei("faults", "resolve", "-c", config, faults[0], "--by", "张工").returncode == 0

        refused = await client.get("/audit", allow_redirects=False)  # an engineer may not read it: audited too
        assert refused.status == 403
    finally:
        await client.close()

    entries = trail_of(config_path)
    assert [e.id for e in entries] == list(range(1, len(entries) + 1))
    by_origin = {(e.actor, e.action, e.target, "cli" if e.detail.get("via") == "cli" else "web") for e in entries}
    assert {("eng1", "login", "eng1", "web"), ("eng1", "fault.ack", faults[0], "web"), ("张工", "fault.ack", faults[1], "cli"),
            ("工程师0", "fault.note", faults[2], "cli"), ("工程师1", "fault.note", faults[3], "cli"),
            ("张工", "fault.resolve", faults[0], "cli"), ("eng1", "denied", "/audit", "web")} <= by_origin
    assert sum(e.action == "fault.note" and e.actor == "eng1" for e in entries) == 3
    assert len(entries) == 10
    verify = yunwei("audit", "verify", "-c", config)
    assert (verify.returncode, verify.stdout.strip()) == (0, "audit chain intact: 10 entries")


async def test_the_audit_page_tells_shell_entries_from_browser_ones(config_path):
    fault = open_fault(config_path)
    assert yunwei("faults", "ack", "-c", str(config_path), fault, "--by", "张工").returncode == 0
    client, _ = await console_client(config_path)
    try:
        await login(client, "admin1")
        page = await (await client.get("/audit")).text()
    finally:
        await client.close()
    assert f"<td>张工</td><td>cli ({getpass.getuser()})</td><td>fault.ack</td><td>{fault}</td>" in page
    assert "<td>admin1</td><td>127.0.0.1</td><td>login</td>" in page
