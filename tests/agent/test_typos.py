"""Typos and wrong input are refused at once with the nearest valid name; one mistake is one
error; names are accepted wherever an id is expected."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cli.main import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """config.example.yaml beside its example contracts, with a data dir of its own."""
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    text = (REPO / "config.example.yaml").read_text(encoding="utf-8").replace("data_dir: /var/lib/yunwei", "data_dir: data")
    config = tmp_path / "config.yaml"
    config.write_text(text, encoding="utf-8")
    return config


def errors(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


def test_an_unknown_kind_is_an_error_naming_the_nearest_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "agent: {id: t}\ndevices:\n  - {id: a, kind: swich, address: 127.0.0.1}\n  - {id: b, kind: 摄像机, address: 127.0.0.2}\n",
        encoding="utf-8",
    )
    assert main(["check", "-c", str(config)]) == 2
    assert errors(capsys) == [
        f"yunwei: {config}:3: devices.0.kind: unknown kind 'swich': did you mean 'switch'?",
        f"yunwei: {config}:4: devices.1.kind: unknown kind '摄像机': did you mean 'camera'?",
    ]


def test_one_misspelt_option_is_one_error_not_a_cascade(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # every device inherits the defaults' icmp probe; maintenance windows, parents and routes name them
    text = example.read_text(encoding="utf-8")
    example.write_text(text.replace("icmp: {count: 3, timeout: 2}", "icmp: {count: 3, timout: 2}"), encoding="utf-8")
    assert main(["check", "-c", str(example)]) == 2
    assert errors(capsys) == [
        f"yunwei: {example}:31: defaults.probes.icmp.timout: unknown option for collector 'icmp': did you mean 'timeout'?"
    ]


def test_a_kind_typo_and_an_option_typo_are_reported_in_one_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "agent: {id: t}\ndefaults: {probes: {tcp: {port: 22, timout: 3}}}\ndevices:\n  - {id: a, kind: swich, address: 127.0.0.1}\n",
        encoding="utf-8",
    )
    assert main(["check", "-c", str(config)]) == 2
    assert len(errors(capsys)) == 2


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--unit", "dsjj", "--system", "dsjj-rom"], "--system: unknown system 'dsjj-rom': did you mean 'dsjj-room'"),
        (["--unit", "dsjj", "--system", "dsjj-room", "--result", "good"], "--result: must be one of ok, problem, missed (got 'good')"),
        (["--unit", "市公安具"], "--unit: unknown unit '市公安具': did you mean 'gaj' (市公安局)?"),
        (["--unit", "gaj", "--device", "核心交换鸡"], "--device: unknown device '核心交换鸡': did you mean 'core-sw-1' (核心交换机)?"),
    ],
)
def test_record_refuses_unknown_references_and_results(
    example: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    assert main(["record", "inspection", "-c", str(example), *argv]) == 2
    err = errors(capsys)
    assert len(err) == 1 and expected in err[0], err
    assert not (example.parent / "data" / "yunwei.db").exists() or "recorded" not in capsys.readouterr().out


def test_record_accepts_names_and_stores_ids(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from store.db import Store

    assert main(["record", "inspection", "-c", str(example), "--unit", "市公安局", "--device", "核心交换机",
                 "--result", "ok", "--at", "2026-11-03 08:30"]) == 0
    with Store(example.parent / "data" / "yunwei.db") as store:
        bodies = [body for _uid, _type, _at, _agent, body in store.events()]
    assert [(b["unit"], b["device"]) for b in bodies] == [("gaj", "core-sw-1")]


def test_faults_and_status_take_names_where_ids_are_expected(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    c = ["-c", str(example)]
    assert main(["faults", "open", *c, "--level", "3", "--cause", "风扇异响", "--device", "核心交换机", "--by", "张工"]) == 0
    capsys.readouterr()
    assert main(["faults", "list", *c, "--device", "核心交换机"]) == 0
    assert "风扇异响" in capsys.readouterr().out
    assert main(["faults", "list", *c, "--unit", "市发改委"]) == 0
    assert "风扇异响" in capsys.readouterr().out
    assert main(["faults", "list", *c, "--unit", "市公安局"]) == 0
    assert "风扇异响" not in capsys.readouterr().out
    assert main(["faults", "list", *c, "--device", "天眼-03"]) == 2
    assert "--device: unknown device '天眼-03'" in capsys.readouterr().err
    assert main(["status", *c, "--unit", "市公安局"]) == 0
