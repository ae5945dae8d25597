"""SSH inspection against OpenSSH sshd on loopback (linux, and a replaying network CLI)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from peers import free_port
from video_helpers import make_target, probe_once

from collectors._ssh import PROFILES, refuse_reason
from collectors.base import CollectorContext
from collectors.ssh import InspectionError, SshOptions, run_session
from core.errors import InputError

DATA = Path(__file__).parent.parent / "data" / "ssh"


def ssh_target(server, tmp_path: Path, **options):  # type: ignore[no-untyped-def]
    values = {
        "device_type": "linux",
        "port": server.port,
        "username": "root",
        "key_file": str(server.client_key),
        "known_hosts": str(server.known_hosts),
        "timeout": 10,
    }
    values.update(options)
    return make_target("ssh", "127.0.0.1", **values)


def context(tmp_path: Path) -> CollectorContext:
    return CollectorContext(data_dir=tmp_path / "data", timezone="Asia/Shanghai")


def fingerprint_of(public_key: Path) -> str:
    return subprocess.run(["ssh-keygen", "-lf", str(public_key)], capture_output=True, text=True, check=True).stdout.split()[1]


async def test_linux_inspection_keeps_evidence_and_figures(sshd, tmp_path: Path) -> None:
    # limits at 100 %: this machine's own load (other tests, other jobs) is not the subject here
    limits = {"cpu_percent_max": 100, "memory_percent_max": 100, "disk_percent_max": 100}
    sample = await probe_once("ssh", ssh_target(sshd, tmp_path, **limits), context(tmp_path))
    assert sample.ok, sample.error
    assert sample.info["result"] == "ok"
    assert sample.metrics["uptime_seconds"] > 0
    assert 0 <= sample.metrics["cpu_percent"] <= 100
    assert 0 < sample.metrics["memory_percent"] < 100
    assert sample.metrics["interfaces_down"] >= 0
    assert 0 < sample.metrics["disk_percent"] <= 100
    evidence = Path(sample.info["evidence"])
    assert evidence.parent.parent == tmp_path / "data" / "evidence"
    assert evidence.name.startswith("127.0.0.1-")
    text = evidence.read_text()
    assert "===== cat /proc/meminfo =====" in text and "MemTotal:" in text
    assert hashlib.sha256(evidence.read_bytes()).hexdigest() == sample.info["evidence_sha256"]
    host_key = fingerprint_of(sshd.client_key.parent / "host_ed25519.pub")
    assert sample.info["host_key"] == host_key and f"# host key: {host_key}" in text


async def test_unknown_host_key_is_refused_by_default(sshd, tmp_path: Path) -> None:
    missing = tmp_path / "empty_known_hosts"
    sample = await probe_once("ssh", ssh_target(sshd, tmp_path, known_hosts=str(missing)), context(tmp_path))
    assert not sample.ok
    assert sample.error is not None and sample.error.startswith(f"unknown host key for [127.0.0.1]:{sshd.port}: refused")
    assert not missing.exists()  # nothing learnt behind the user's back
    assert "Accepted publickey" not in sshd.peer.log_text()  # never logged in


async def test_changed_host_key_is_refused_even_with_trust_on_first_use(sshd, tmp_path: Path) -> None:
    impostor = tmp_path / "known_hosts_other"
    key_type, key_data = (sshd.other_key.parent / "other_ed25519.pub").read_text().split()[:2]
    impostor.write_text(f"[127.0.0.1]:{sshd.port} {key_type} {key_data}\n")
    target = ssh_target(sshd, tmp_path, known_hosts=str(impostor), trust_on_first_use=True)
    sample = await probe_once("ssh", target, context(tmp_path))
    assert not sample.ok
    assert sample.error is not None and "CHANGED" in sample.error and "refused" in sample.error
    assert "Accepted publickey" not in sshd.peer.log_text()


async def test_trust_on_first_use_records_the_key_then_verifies_it(sshd, tmp_path: Path) -> None:
    learnt = tmp_path / "data" / "known_hosts"
    target = ssh_target(sshd, tmp_path, known_hosts=None, trust_on_first_use=True, commands=["uptime"])
    first = await probe_once("ssh", target, context(tmp_path))
    assert first.ok, first.error
    assert learnt.read_text().split() == sshd.host_key_line.split()
    assert "(trusted on first use)" in Path(first.info["evidence"]).read_text()
    second = await probe_once("ssh", target, context(tmp_path))
    assert second.ok and "(trusted on first use)" not in Path(second.info["evidence"]).read_text()
    assert learnt.read_text().count("\n") == 1  # not added twice


def test_probe_command_keeps_evidence_in_the_data_dir_and_says_where(
    sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("YUNWEI_CONFIG", raising=False)
    login = ["127.0.0.1", "-o", "device_type=linux", "-o", "username=root", "-o", f"key_file={sshd.client_key}",
             "-o", f"port={sshd.port}", "-o", "commands=[uptime]"]
    site = tmp_path / "site"
    site.mkdir()
    (site / "known_hosts").write_text(sshd.known_hosts.read_text())
    (site / "config.yaml").write_text("agent: {data_dir: data}\ndevices: []\n")
    (site / "data").mkdir()
    (site / "data" / "known_hosts").write_text(sshd.known_hosts.read_text())
    # the config's data dir: known_hosts read there, evidence kept there, the path printed
    assert main(["probe", "ssh", *login, "-c", str(site / "config.yaml")]) == 0
    out = capsys.readouterr().out
    evidence = Path(out.split("evidence", 1)[1].split()[0])
    assert evidence.is_absolute() and evidence.parent.parent == site / "data" / "evidence" and evidence.is_file()
    # an explicit --data-dir
    assert main(["probe", "ssh", *login, "--data-dir", str(site)]) == 0
    evidence = Path(capsys.readouterr().out.split("evidence", 1)[1].split()[0])
    assert evidence.parent.parent == site / "evidence" and evidence.is_file()
    # no config at all: the agent's default data dir, never ./evidence
    assert main(["probe", "ssh", *login]) == 1
    out = capsys.readouterr().out
    assert "unknown host key" in out and str(work / "yunwei-data" / "known_hosts") in out
    assert not (work / "evidence").exists()
    assert main(["probe", "ssh", *login, "-c", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml: file not found" in capsys.readouterr().err


async def test_wrong_key_and_closed_port(sshd, tmp_path: Path) -> None:
    wrong = await probe_once("ssh", ssh_target(sshd, tmp_path, key_file=str(sshd.other_key)), context(tmp_path))
    assert not wrong.ok and wrong.error == "login refused for user 'root' (password or key wrong)"
    port = free_port()
    closed = await probe_once("ssh", ssh_target(sshd, tmp_path, port=port, timeout=3), context(tmp_path))
    assert not closed.ok and closed.error == f"connection refused (port {port})"


@pytest.mark.parametrize("device_type", ["huawei", "hp_comware", "cisco_ios"])
async def test_network_cli_over_ssh(fake_device, tmp_path: Path, device_type: str) -> None:
    device = fake_device(device_type)
    target = ssh_target(device.server, tmp_path, device_type=device_type, username="root", must_be_up=["GE1/0/2"])
    sample = await probe_once("ssh", target, context(tmp_path))
    assert sample.ok, sample.error
    expected = json.loads((DATA / device_type / "expected.json").read_text())
    for figure in ("uptime_seconds", "cpu_percent", "memory_percent", "interfaces_down"):
        assert sample.metrics[figure] == pytest.approx(expected[figure]), figure
    assert sample.info["down_interfaces"] == ", ".join(expected["down_interfaces"])
    if device_type == "hp_comware":  # an interface that must be up is down: a problem, still an inspection
        assert sample.info["result"] == "problem" and sample.info["problems"] == "down: GE1/0/2"
    else:
        assert sample.info["result"] == "ok"
    sent = [line for line in device.received() if line]
    commands = list(PROFILES[device_type].commands)
    assert [line for line in sent if line in commands] == commands
    for line in sent:  # what else netmiko sent: only its session set-up (paging off) and quit
        assert line in commands or line.startswith(("screen-length", "terminal ", "quit", "exit")), line
    assert "===== display" in Path(sample.info["evidence"]).read_text() or device_type == "cisco_ios"


async def test_a_write_command_never_reaches_the_device(fake_device, tmp_path: Path) -> None:
    """Even options that skipped validation cannot send a configuration command."""
    device = fake_device("huawei")
    options = SshOptions.model_construct(
        **{**SshOptions(device_type="huawei", username="root", key_file=str(device.server.client_key)).__dict__,
           "port": device.server.port, "known_hosts": str(device.server.known_hosts), "commands": ["display version", "system-view"]}
    )
    with pytest.raises(InspectionError, match="refused to send 'system-view'"):
        run_session("127.0.0.1", options, device.server.known_hosts)
    assert "system-view" not in device.received()
    assert "display version" in device.received()


@pytest.mark.parametrize(
    ("device_type", "command"),
    [
        ("huawei", "system-view"),
        ("huawei", "save"),
        ("huawei", "reboot"),
        ("huawei", "undo info-center enable"),
        ("huawei", "display current-configuration > flash:/backup.cfg"),
        ("huawei", "display current-configuration | redirect flash:/x"),
        ("huawei", "display diagnostic-information"),
        ("hp_comware", "system-view"),
        ("hp_comware", "reset counters interface"),
        ("cisco_ios", "configure terminal"),
        ("cisco_ios", "write memory"),
        ("cisco_ios", "copy running-config startup-config"),
        ("cisco_ios", "reload"),
        ("cisco_ios", "clear counters"),
        ("cisco_ios", "show running-config | redirect flash:run.txt"),
        ("cisco_ios", "show tech-support | tee flash:tech.txt"),
        ("cisco_ios", "delete flash:vlan.dat"),
        ("linux", "reboot"),
        ("linux", "rm -rf /var/log"),
        ("linux", "uptime; reboot"),
        ("linux", "df -h > /tmp/x"),
        ("linux", "cat /etc/shadow"),
        ("linux", "shutdown -h now"),
        ("linux", "mv /etc/hosts /tmp"),
        ("linux", "cat /proc/meminfo | sh"),
        ("linux", "uptime\nreboot"),
    ],
)
def test_write_commands_are_refused(device_type: str, command: str) -> None:
    assert refuse_reason(device_type, command) is not None


@pytest.mark.parametrize(
    ("device_type", "command"),
    [
        ("huawei", "display version"),
        ("huawei", "dis cpu-usage"),
        ("huawei", "display interface brief | include down"),
        ("hp_comware", "display memory"),
        ("cisco_ios", "sh ver | i uptime"),
        ("cisco_ios", "show ip interface brief"),
        ("linux", "uptime"),
        ("linux", "df -h"),
        ("linux", "ip -br link"),
        ("linux", "free -m"),
    ],
)
def test_read_commands_are_allowed(device_type: str, command: str) -> None:
    assert refuse_reason(device_type, command) is None


def test_config_with_a_write_command_is_refused_at_load(tmp_path: Path) -> None:
    from inventory.config import load_config

    config = tmp_path / "config.yaml"
    config.write_text(
        "agent: {data_dir: data}\n"
        "devices:\n"
        "  - id: core-sw-1\n"
        "    address: 10.1.0.1\n"
        "    probes:\n"
        "      icmp: {}\n"
        "      ssh:\n"
        "        device_type: huawei\n"
        "        username: inspector\n"
        "        password: x\n"
        "        commands:\n"
        "          - display version\n"
        "          - system-view\n"
    )
    with pytest.raises(InputError) as caught:
        load_config(config)
    [problem] = caught.value.problems
    text = str(problem)
    assert text.startswith(f"{config}:7: devices.0.probes.ssh")
    assert "'system-view' refused" in text and "read-only" in text
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("device_type", sorted(PROFILES))
def test_parsers_on_recorded_outputs(device_type: str) -> None:
    profile = PROFILES[device_type]
    outputs = {}
    for command in profile.commands:
        slug = "_".join("".join(ch if ch.isalnum() else " " for ch in command.lower()).split())
        outputs[command] = (DATA / device_type / f"{slug}.txt").read_text()
    figures = profile.parse(outputs)
    expected = json.loads((DATA / device_type / "expected.json").read_text())
    for name, value in expected.items():
        assert getattr(figures, name) == pytest.approx(value) if not isinstance(value, list) else getattr(figures, name) == value, name


def test_the_ssh_probe_is_not_part_of_rounds_nor_of_the_online_rule(make_inventory) -> None:
    from agent.runtime import Agent

    inventory = make_inventory(
        {
            "units": [{"id": "u1"}],
            "devices": [
                {
                    "id": "sw-1",
                    "unit": "u1",
                    "kind": "other",
                    "address": "127.0.0.1",
                    "probes": {
                        "tcp": {"port": 22},
                        "ssh": {"device_type": "huawei", "username": "u", "password": "p", "schedule": "workdays 08:30"},
                    },
                }
            ]
        }
    )
    assert inventory.devices["sw-1"].online == "tcp"
    agent = Agent(inventory, attach_hooks=False)
    assert [key[0] for key in agent.groups] == ["tcp"]
    agent.db.close()
