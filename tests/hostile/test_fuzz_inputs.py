"""Fuzzing the files an engineer hands yunwei: asset ledgers (CSV and XLSX through
``yunwei inventory import``) and contract YAML (through ``yunwei check``).

Every input ends in acceptance or in clean errors with exit 2: each stderr line is
``yunwei: <file>...`` naming where (never ``yunwei: error: <exception>`` with exit 1, never a
traceback), and a refused ledger leaves the config byte for byte as it was, with no temporary
file beside it. An accepted ledger leaves a config that loads. Example counts are modest so
each test runs in seconds; under CI=true the examples are derandomized (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from cli.main import main
from inventory.config import load_config
from inventory.ledger_read import COLUMNS

CONFIG = """\
# site config: an import must keep this comment
agent: {id: t, data_dir: data}
units:
  - {id: gaj, name: 市公安局}
devices:
  - {id: sw1, name: 核心交换机, kind: switch, address: 10.0.0.1, unit: gaj}
"""
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONTRACT = Path(__file__).parent.parent.parent / "compliance/contracts/service_hall.yaml"


def yunwei(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, err.getvalue()


def assert_clean_refusal(code: int, errors: str, named: Path) -> None:
    assert code == 2, f"exit {code}: {errors}"
    lines = errors.splitlines()
    assert lines, "exit 2 without a word"
    for line in lines:
        assert line.startswith(f"yunwei: {named}"), f"an error that does not name the file: {line!r}"
        assert "Traceback" not in line and not line.startswith("yunwei: error:"), line


# -- asset ledgers ---------------------------------------------------------------------------

HEADERS = [words[0] for words in COLUMNS.values()] + [words[-1] for words in COLUMNS.values()] + ["备注2", "", "  ", "设备名称"]
PLAUSIBLE = st.sampled_from(
    ["东门摄像机", "10.0.1.11", "10.0.1.300", "::1", "摄像机", "交换机", "switch", "camera", "市公安局", "gaj", "sw1",
     "蓝天卫士", "sw9", "0", "-1", "1e999", "nan", "是", "  ", ""]
)
HOSTILE_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.sampled_from(["\x00", "a\x07b", "=1+2", "\"quoted\"", "line\nbreak", "{a: 1}", "[x, y]", "*alias", "&anchor x", "x" * 3000])
CELL = PLAUSIBLE | HOSTILE_TEXT
ROWS = st.lists(st.lists(CELL, min_size=0, max_size=9), min_size=0, max_size=8)


@st.composite
def ledgers(draw: st.DrawFn) -> list[list[str]]:
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=0, max_size=9))
    return [header, *draw(ROWS)]


def csv_text(table: list[list[str]]) -> str:
    import csv

    buffer = io.StringIO()
    csv.writer(buffer).writerows(table)
    return buffer.getvalue()


def import_and_check(directory: Path, ledger: Path) -> str:
    """``imported`` (and the config loads, comments kept) or ``refused`` (one clean line per
    problem, exit 2, the config untouched); nothing left beside the config either way."""
    config = directory / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    before = config.read_bytes()
    code, errors = yunwei("inventory", "import", "-c", str(config), str(ledger))
    leftovers = sorted(p.name for p in directory.iterdir() if p.name not in {"config.yaml", ledger.name, "data"})
    assert not leftovers, f"files left beside the config: {leftovers}"
    if code == 0:
        load_config(config)  # what was written loads
        assert "# site config: an import must keep this comment" in config.read_text(encoding="utf-8")
        return "imported"
    assert_clean_refusal(code, errors, ledger)
    assert config.read_bytes() == before, "a refused ledger changed the config"
    return "refused"


@FUZZ
@given(table=ledgers(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_any_csv_ledger_is_imported_or_refused_cleanly(table: list[list[str]], encoding: str) -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        ledger = directory / "资产台账.csv"
        try:
            ledger.write_bytes(csv_text(table).encode(encoding))
        except UnicodeEncodeError:
            ledger.write_bytes(csv_text(table).encode("utf-8"))
        assert import_and_check(directory, ledger) in ("imported", "refused")


@settings(max_examples=40, deadline=None)
@given(raw=st.binary(max_size=2000))
def test_any_bytes_as_a_csv_or_xlsx_ledger_are_refused_cleanly_or_imported(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        for suffix in (".csv", ".xlsx"):
            ledger = directory / f"ledger{suffix}"
            ledger.write_bytes(raw)
            assert import_and_check(directory, ledger) in ("imported", "refused")
            ledger.unlink()


XLSX_CELL = (
    CELL.map(lambda text: "".join(ch for ch in text if ch >= " " or ch in "\t\n\r"))  # what openpyxl can store
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans()
    | st.none()
    | st.dates()
)


@FUZZ
@given(
    header=st.lists(st.sampled_from(HEADERS), max_size=9),
    rows=st.lists(st.lists(XLSX_CELL, max_size=9), max_size=8),
    title_rows=st.integers(0, 3),
    merges=st.lists(st.tuples(st.integers(1, 10), st.integers(1, 9), st.integers(0, 3), st.integers(0, 2)), max_size=3),
    sheets=st.integers(1, 2),
)
def test_any_xlsx_ledger_is_imported_or_refused_cleanly(
    header: list[str], rows: list[list[Any]], title_rows: int, merges: list[tuple[int, int, int, int]], sheets: int
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    for _ in range(title_rows):
        sheet.append(["市级政务信息化运维 资产台账"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for row, column, down, across in merges:  # 使用单位 merged over several rows, as customers do
        with contextlib.suppress(ValueError):
            sheet.merge_cells(start_row=row, start_column=column, end_row=row + down, end_column=column + across)
    for index in range(1, sheets):
        workbook.create_sheet(f"Sheet{index + 1}").append(header)
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        ledger = directory / "资产台账.xlsx"
        workbook.save(ledger)
        assert import_and_check(directory, ledger) in ("imported", "refused")


# -- contract YAML ---------------------------------------------------------------------------

HOSTILE_VALUES = st.sampled_from(
    [None, -1, 0, 10**30, 1.5, "", "x", "2026-02-30", "25:00", ".inf", ".nan", [], {}, [1, "a"], {"k": "v"}, True,
     "\x00", "市公安局" * 50]
) | st.text(max_size=20) | st.integers() | st.floats()


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a nested structure."""
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, (*prefix, index))
    return found


def replaced(data: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(data) if isinstance(data, dict) else list(data)
    if delete and not rest:
        del copy[head]
    else:
        copy[head] = replaced(copy[head], rest, value, delete)
    return copy


@st.composite
def mutated_contracts(draw: st.DrawFn) -> str:
    data = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        candidates = paths(data)[1:]
        path = draw(st.sampled_from(candidates))
        data = replaced(data, path, draw(HOSTILE_VALUES), delete=draw(st.booleans()))
    if draw(st.booleans()):
        data = {**data, draw(st.sampled_from(["extra", "unit", "periods", "id "])): draw(HOSTILE_VALUES)}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


YAMLISH = st.lists(
    st.sampled_from(["id: c", "name: x", "units:", "  - {id: a}", "- x", ": y", "&a [*a]", "{", "]", "'", "\t", "? [a]",
                     "period: {kind: month}", "term: {start: 2026-01-01}", "money: {fee_per_year: -1}", "%YAML 1.1", "---"]),
    max_size=8,
).map("\n".join)


def check_contract(text: str) -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        contract = directory / "contract.yaml"
        contract.write_text(text, encoding="utf-8")
        config = directory / "config.yaml"
        config.write_text(f"agent: {{id: t, data_dir: {directory / 'data'}}}\ncontracts:\n  - {contract}\n", encoding="utf-8")
        code, errors = yunwei("check", "-c", str(config))
        if code != 0:
            assert_clean_refusal(code, errors, contract)


@FUZZ
@given(text=mutated_contracts())
def test_any_mutation_of_a_real_contract_is_accepted_or_refused_cleanly(text: str) -> None:
    check_contract(text)


@settings(max_examples=60, deadline=None)
@given(text=YAMLISH | st.text(max_size=200))
@example(text="id: c\nname: \x1f")  # was a two-line PyYAML message without the line
def test_any_text_as_a_contract_is_accepted_or_refused_cleanly(text: str) -> None:
    check_contract(text)
