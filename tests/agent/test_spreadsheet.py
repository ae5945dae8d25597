"""Asset ledger (资产台账) import/export: Chinese or English headers, errors by row and column."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from cli.main import main
from inventory.config import load_config

CONFIG = """\
# site config: this comment must survive an import
agent: {id: t, data_dir: data}
defaults:
  probes:
    tcp: {port: 22}   # every device gets an ssh check
units:
  - {id: gaj, name: 市公安局}
devices:
  - {id: sw1, name: 核心交换机, kind: switch, address: 10.0.0.1, unit: gaj}
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_csv_with_chinese_headers_merges_into_the_config(config_path: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    ledger = tmp_path / "资产台账.csv"
    ledger.write_text(
        "设备名称,IP地址,设备类型,使用单位,运维事项,分组,上级设备\n"
        "东门摄像机,10.0.1.11,摄像机,市公安局,蓝天卫士,蓝天卫士329路,sw1\n"
        "西门摄像机,10.0.1.12,摄像机,市公安局,蓝天卫士,蓝天卫士329路,sw1\n"
        "核心交换机,10.0.0.2,交换机,市公安局,,,\n",
        encoding="gb18030",  # as Excel on a Chinese Windows saves it
    )
    assert main(["inventory", "import", "-c", str(config_path), str(ledger)]) == 0
    assert "新增 2 台设备, 更新 1 台" in capsys.readouterr().out
    text = config_path.read_text(encoding="utf-8")
    assert "# site config: this comment must survive an import" in text
    assert "# every device gets an ssh check" in text
    inventory = load_config(config_path)
    cameras = inventory.group_members("蓝天卫士329路")
    assert sorted(c.name for c in cameras) == ["东门摄像机", "西门摄像机"]
    assert {c.kind for c in cameras} == {"camera"} and {c.parent for c in cameras} == {"sw1"}
    assert cameras[0].unit == "gaj" and cameras[0].system == "蓝天卫士"
    assert inventory.devices["sw1"].address == "10.0.0.2"  # matched by name, updated
    # importing the same file again changes nothing
    assert main(["inventory", "import", "-c", str(config_path), str(ledger)]) == 0
    assert "新增 0 台设备, 更新 0 台, 3 台不变" in capsys.readouterr().out


def test_xlsx_with_english_headers_and_export_round_trip(config_path: Path, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Assets"
    sheet.append(["Name", "Address", "Kind", "Unit", "Group"])
    sheet.append(["Hall UPS", "10.0.9.1", "ups", "gaj", None])
    sheet.append([None, None, None, None, None])
    ledger = tmp_path / "assets.xlsx"
    workbook.save(ledger)
    assert main(["inventory", "import", "-c", str(config_path), str(ledger)]) == 0
    out = tmp_path / "export.xlsx"
    assert main(["inventory", "export", "-c", str(config_path), "-o", str(out)]) == 0
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][:9] == ("序号", "设备编号", "设备名称", "设备类型", "IP地址", "所属单位", "所属系统", "分组", "上级设备")
    assert rows[2][:6] == (2, "ups-001", "Hall UPS", "UPS", "10.0.9.1", "市公安局")
    # the export imports back without changes
    before = config_path.read_text(encoding="utf-8")
    assert main(["inventory", "import", "-c", str(config_path), str(out)]) == 0
    assert config_path.read_text(encoding="utf-8") == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("设备名称,设备类型\n东门,摄像机\n", "assets.csv:1: header: missing column(s): IP地址/address"),
        ("设备名称,IP地址,设备类型\n东门,10.0.1.11,摄像机\n西门,10.0.1.300,摄像机\n", "assets.csv:3: IP地址/address: '10.0.1.300' is not a valid IP address"),
        ("设备名称,IP地址,设备类型\n东门,10.0.1.11,飞船\n", "assets.csv:2: 设备类型/kind: unknown device kind '飞船'"),
    ],
)
def test_bad_ledger_names_the_row_and_column_and_writes_nothing(
    config_path: Path, tmp_path: Path, capsys, content: str, expected: str  # type: ignore[no-untyped-def]
) -> None:
    ledger = tmp_path / "assets.csv"
    ledger.write_text(content, encoding="utf-8")
    assert main(["inventory", "import", "-c", str(config_path), str(ledger)]) == 2
    err = capsys.readouterr().err
    assert expected in err, err
    assert config_path.read_text(encoding="utf-8") == CONFIG


def test_import_keeps_the_configs_mode_owner_and_group(config_path: Path, tmp_path: Path) -> None:
    # as deploy/yunwei.service installs it: root:yunwei 0640, readable by the service's group
    config_path.chmod(0o640)
    if os.geteuid() == 0:
        os.chown(config_path, 0, 65534)
    before = config_path.stat()
    ledger = tmp_path / "assets.csv"
    ledger.write_text("设备名称,IP地址,设备类型\n东门,10.0.1.11,摄像机\n", encoding="utf-8")
    assert main(["inventory", "import", "-c", str(config_path), str(ledger)]) == 0
    after = config_path.stat()
    assert "东门" in config_path.read_text(encoding="utf-8")
    assert (after.st_mode & 0o7777, after.st_uid, after.st_gid) == (0o640, before.st_uid, before.st_gid)


def test_export_writes_a_readable_file_and_refuses_a_directory(
    config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    umask = os.umask(0o022)
    try:
        for name in ("ledger.csv", "ledger.xlsx"):
            assert main(["inventory", "export", "-c", str(config_path), "-o", str(tmp_path / name)]) == 0
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
    finally:
        os.umask(umask)
    (tmp_path / "out.csv").mkdir()
    assert main(["inventory", "export", "-c", str(config_path), "-o", str(tmp_path / "out.csv")]) == 2
    assert capsys.readouterr().err.strip().endswith("out.csv: is a directory: give a file name")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_a_workbook_error_names_the_sheet_row_and_column(config_path: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "资产台账"
    sheet.append(["设备名称", "IP地址", "设备类型"])
    sheet.append(["东门", "10.0.1.11", "摄像机"])
    sheet.append(["西门", "10.0.1.999", "摄像机"])
    ledger = tmp_path / "台账.xlsx"
    workbook.save(ledger)
    assert main(["inventory", "import", "-c", str(config_path), str(ledger)]) == 2
    assert f"{ledger} [sheet 资产台账]:3: IP地址/address: '10.0.1.999' is not a valid IP address" in capsys.readouterr().err
    assert config_path.read_text(encoding="utf-8") == CONFIG
