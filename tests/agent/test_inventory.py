"""Config loading: defaults resolved once, and bad input named by file, line and field."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cli.main import main
from core.errors import InputError
from inventory.config import config_from_data, load_config

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
agent:
  id: t1
  data_dir: data
units:
  - {id: u1, name: 单位一}
systems:
  - {id: s1, name: 系统一, unit: u1}
defaults:
  probes:
    tcp: {port: 22}
  tags: {site: a}
groups:
  - id: g1
    name: 摄像机组
    unit: u1
    system: s1
    kind: camera
    probes:
      tcp: {port: 554, timeout: 1}
    tags: {floor: "1"}
devices:
  - {id: sw1, name: 交换机, kind: switch, address: 127.0.0.1, unit: u1}
  - id: cam1
    group: g1
    address: 127.0.0.2
    parent: sw1
  - id: cam2
    group: g1
    address: 127.0.0.3
    probes:
      tcp: {port: 80}
      http: {url: "http://127.0.0.3/"}
    online: all(tcp, http)
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_flow_from_defaults_to_group_to_device(tmp_path: Path) -> None:
    inventory = load_config(write(tmp_path, GOOD))
    cam1 = inventory.devices["cam1"]
    assert cam1.kind == "camera"  # from the group
    assert cam1.unit == "u1" and cam1.system == "s1"
    assert cam1.probes["tcp"].options.port == 554  # group overrides defaults
    assert cam1.tags == {"site": "a", "floor": "1"}
    assert cam1.online == "tcp"
    cam2 = inventory.devices["cam2"]
    assert cam2.probes["tcp"].options.port == 80  # device overrides group
    assert cam2.online == "all(tcp, http)"
    assert inventory.devices["sw1"].probes["tcp"].options.port == 22
    assert inventory.data_dir == tmp_path / "data"


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("devices:\n  - id: a\n    address: [1, 2\n", 4, "YAML syntax error"),
        ("agent:\n  id: x\n  colour: red\n", 3, "agent.colour: unknown key"),
        (
            "devices:\n  - {id: a, address: 127.0.0.1, probes: {tcp: {port: 1}}}\n"
            "  - {id: a, address: 127.0.0.2, probes: {tcp: {port: 1}}}\n",
            3,
            "duplicate device id 'a' (first at line 2)",
        ),
        (
            "devices:\n  - id: a\n    address: 127.0.0.1\n    parent: ghost\n    probes: {tcp: {port: 1}}\n",
            4,
            "devices.0.parent: parent device 'ghost' does not exist",
        ),
        ("devices:\n  - {id: a, address: 10.0.0.300, probes: {tcp: {port: 1}}}\n", 2, "not a valid IP address"),
        ("devices:\n  - id: a\n    address: 127.0.0.1\n    probes:\n      teleport: {}\n", 5, "unknown collector 'teleport'"),
        ("devices:\n  - id: a\n    address: 127.0.0.1\n    probes:\n      tcp: {port: 99999}\n", 5, "devices.0.probes.tcp.port"),
        ("devices:\n  - id: a\n    probes: {tcp: {port: 1}}\n    online: any(tcp, sip)\n", 4, "probes the device does not have: sip"),
        ("agent: {id: a}\nagent: {id: b}\n", 2, "duplicate key 'agent'"),
        ("meetings:\n  - {at: 2026-13-01T09:00:00, venues: []}\n", 2, "meetings.0.at: bad value '2026-13-01T09:00:00'"),
        (
            "devices:\n  - id: l\n    kind: line\n    attrs: {bandwidth: 100X}\n    probes: {line: {far_end: 127.0.0.1}}\n",
            4,
            "devices.0.attrs.bandwidth: '100X' is not a bandwidth like 100M",
        ),
        (
            "devices:\n  - id: u\n    attrs: {required_runtime_hours: three}\n"
            "    address: 127.0.0.1\n    probes: {ups: {source: nut, nut_ups: hotline}}\n",
            3,
            "devices.0.attrs.required_runtime_hours: must be a number of hours, not 'three'",
        ),
        (
            "devices:\n  - id: s\n    address: 127.0.0.1\n    probes:\n      ssh:\n        device_type: linux\n"
            "        username: u\n        password: p\n        schedule: [workdays 08:30]\n",
            9,
            "devices.0.probes.ssh.schedule: a scheduled inspection is filed under a unit",
        ),
    ],
)
def test_bad_config_names_file_line_and_field(tmp_path: Path, text: str, line: int, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_config(path)
    messages = [str(p) for p in caught.value.problems]
    assert any(m.startswith(f"{path}:{line}") and expected in m for m in messages), messages


def test_an_in_memory_config_is_checked_the_same_and_named_by_field(tmp_path: Path) -> None:
    data = {
        "devices": [
            {"id": "a", "address": "127.0.0.1", "probes": {"tcp": {"port": 1}}},
            {"id": "a", "address": "127.0.0.2", "probes": {"tcp": {"port": 1}}},
            {"id": "b", "address": "127.0.0.3", "probes": {"tcp": {"port": 0}}},
        ]
    }
    with pytest.raises(InputError) as caught:
        config_from_data(data, source="demo")
    messages = [str(p) for p in caught.value.problems]
    # no YAML text exists, so no line is named: the source and the field path are
    assert "demo: devices.1.id: duplicate device id 'a' (first at devices.0)" in messages
    assert any(m.startswith("demo: devices.2.probes.tcp.port: ") for m in messages), messages
    assert all(p.line is None for p in caught.value.problems)
    assert data["devices"][0] == {"id": "a", "address": "127.0.0.1", "probes": {"tcp": {"port": 1}}}  # untouched


def test_parent_loop_is_refused(tmp_path: Path) -> None:
    text = (
        "devices:\n  - {id: a, address: 127.0.0.1, parent: b, probes: {tcp: {port: 1}}}\n"
        "  - {id: b, address: 127.0.0.2, parent: a, probes: {tcp: {port: 1}}}\n"
    )
    with pytest.raises(InputError, match="loop"):
        load_config(write(tmp_path, text))


def test_check_command_prints_every_problem_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        "devices:\n  - {id: a, address: 1.2.3.999, probes: {tcp: {port: 1}}}\n  - {id: b, kind: switch, colour: red}\n",
    )
    assert main(["check", "-c", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any(f"{path}:2" in e and "IP address" in e for e in err)
    assert any(f"{path}:3" in e and "colour: unknown key" in e for e in err)
    assert all(e.startswith("yunwei: ") for e in err)  # one clear line each, no traceback


def test_secrets_come_from_the_environment_or_the_secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secrets.yaml").write_text("portal_key: s3cret\n")
    monkeypatch.setenv("YW_TEST_PATH", "/health")
    text = (
        "agent: {secrets_file: secrets.yaml}\n"
        "devices:\n  - id: p\n    probes:\n      http:\n        url: http://127.0.0.1${env:YW_TEST_PATH}\n"
        "        headers: {X-Key: '${secret:portal_key}'}\n"
    )
    inventory = load_config(write(tmp_path, text))
    options = inventory.devices["p"].probes["http"].options
    assert options.url == "http://127.0.0.1/health"
    assert options.headers == {"X-Key": "s3cret"}
    monkeypatch.delenv("YW_TEST_PATH")
    with pytest.raises(InputError, match="environment variable 'YW_TEST_PATH' is not set"):
        load_config(write(tmp_path, text))
    optional = load_config(write(tmp_path, text.replace("${env:YW_TEST_PATH}", "${env:YW_TEST_PATH:-/ping}")))
    assert optional.devices["p"].probes["http"].options.url == "http://127.0.0.1/ping"


def test_config_example_passes_check(capsys: pytest.CaptureFixture[str]) -> None:
    env_needed = {
        line.split("${env:")[1].split("}")[0]
        for line in (REPO / "config.example.yaml").read_text().splitlines()
        if "${env:" in line
    }
    for name in env_needed:
        os.environ.setdefault(name, "example-value")
    assert main(["check", "-c", str(REPO / "config.example.yaml")]) == 0, capsys.readouterr().err
    assert "OK" in capsys.readouterr().out


def test_check_loads_the_contract_files_the_config_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "contracts:\n  - {id: town, file: contracts/town.yaml}\n")
    assert main(["check", "-c", str(path)]) == 2
    assert f"{tmp_path / 'contracts' / 'town.yaml'}: file not found" in capsys.readouterr().err
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "town.yaml").write_text("id: town\nname: 镇\nfee_per_period: -5\n")
    assert main(["check", "-c", str(path)]) == 2
    assert "town.yaml" in capsys.readouterr().err
