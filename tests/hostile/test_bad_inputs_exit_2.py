"""Inputs that used to end in ``yunwei: error: <exception>`` with exit 1: each is now one line
naming the file, the line and the field, with exit 2 (through the CLI entry point)."""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path

import pytest

from cli.main import main


def yunwei(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, err.getvalue()


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("agent:\n  secrets_file: 123\n", ":2: agent.secrets_file: Input should be a valid string"),
        ("agent:\n  id: x\n? [a, b]\n: 1\n", ":3: (top level): a list cannot be a key (write key: value)"),
        ("agent:\n  id: x\n  ? {a: 1}\n  : 1\n", ":3: agent: a mapping cannot be a key (write key: value)"),
        ("agent: &loop\n  id: *loop\n", ":1: agent.id: a YAML alias refers to a value that contains it"),
        ("devices: &d\n  - id: a\n    attrs: {more: *d}\n", ":1: devices.0.attrs.more: a YAML alias refers to a value that contains it"),
    ],
    ids=["secrets_file-number", "list-key", "mapping-key", "alias-loop", "alias-loop-deep"],
)
def test_a_bad_config_is_one_line_with_file_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = config(tmp_path, text)
    assert yunwei("check", "-c", str(path)) == (2, f"yunwei: {path}{expected}\n")


def test_a_self_referencing_alias_in_a_contract_is_one_line(tmp_path: Path) -> None:
    contract = tmp_path / "contract.yaml"
    contract.write_text("id: c1\nname: &n\n  - *n\n", encoding="utf-8")
    path = config(tmp_path, f"agent:\n  data_dir: {tmp_path / 'data'}\ncontracts:\n  - {contract}\n")
    assert yunwei("check", "-c", str(path)) == (2, f"yunwei: {contract}:2: name.0: a YAML alias refers to a value that contains it\n")


def test_an_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]  # 10^9 values
    path = config(tmp_path, "\n".join(lines) + "\n")
    started = time.monotonic()
    code, errors = yunwei("check", "-c", str(path))
    assert code == 2 and errors.startswith(f"yunwei: {path}:1: l") and errors.endswith(
        "expands to more than 1,000,000 values (aliases repeated?)\n"
    )
    assert errors.count("\n") == 1
    assert time.monotonic() - started < 30


def test_a_ledger_line_nested_100000_deep_is_one_line_and_nothing_is_imported(tmp_path: Path) -> None:
    path = config(tmp_path, f"agent:\n  data_dir: {tmp_path / 'data'}\n")
    ledger = tmp_path / "deep.jsonl"
    good = '{"type": "record", "kind": "visit", "at": "2026-11-03T09:00:00+08:00", "by": "张工", "unit": "gaj", "summary": "巡检"}'
    ledger.write_text(good + "\n" + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    assert yunwei("ledger", "import", "-c", str(path), str(ledger)) == (
        2,
        f"yunwei: {ledger}:2: not a ledger event: JSON nested too deeply\n",
    )
    export = tmp_path / "out.jsonl"
    code, _ = yunwei("ledger", "export", "-c", str(path), "-o", str(export), "--from", "2026-11-01", "--to", "2026-12-01")
    assert code == 0 and "巡检" not in export.read_text(encoding="utf-8")
