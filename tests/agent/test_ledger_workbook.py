"""The asset ledger as customers keep it: a title row, 所属单位 merged over rows, 枪机/球机/NVR,
location, model, serial and notes, re-imports that update in place, the config's style kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from cli.main import main
from inventory.config import load_config

REPO = Path(__file__).resolve().parents[2]
CONFIG = """\
# site config: comments, flow mappings and indentation survive an import
agent: {id: t, data_dir: data}
units:
    - {id: gaj, name: 市公安局}     # the police
systems:
    - {id: tianyan, name: 天眼三期, unit: gaj}
devices:
    - {id: sw1, name: 核心交换机, kind: switch, address: 10.0.0.1, unit: gaj}
"""
HEADER = ["序号", "设备名称", "设备类型", "IP地址", "所属单位", "所属系统", "安装位置", "品牌型号", "序列号", "备注", "采购日期"]
ROWS = [
    [1, "人民路口枪机", "枪机", "10.0.12.1", "市公安局", "天眼三期", "人民路口", "海康 DS-2CD3T46", "SN001", "", "2024-03-01"],
    [2, "人民路口球机", "球机", "10.0.12.2", None, "天眼三期", "人民路口", "海康 DS-2DE4", "SN002", "云台", "2024-03-01"],
    [3, "大厅半球", "半球", "10.0.12.3", None, "天眼三期", "一楼大厅", "大华 HDBW", "SN003", "", None],
    [4, "存储NVR", "NVR", "10.0.12.9", None, "天眼三期", "机房", "海康 DS-9632", "SN009", "", None],
    [5, "机房UPS", "UPS不间断电源", "10.0.12.20", None, None, "机房", "山特 C3K", "SN020", "", None],
    [6, "会议室终端", "会议终端", "10.0.12.30", None, None, "三楼会议室", "华为 TE40", "SN030", "", None],
]


def customer_workbook(path: Path, rows: list[list[object]] = ROWS) -> Path:
    """As a customer sends it: a merged title, a date line, the header, 所属单位 merged down."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "资产台账"
    sheet.append(["天眼三期视频监控资产台账"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append(["制表日期：2026年11月"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    sheet.merge_cells(start_row=4, start_column=5, end_row=3 + len(rows), end_column=5)  # 所属单位
    workbook.save(path)
    return path


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_a_customer_workbook_imports_with_its_title_merged_units_words_and_attributes(
    config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = customer_workbook(tmp_path / "台账.xlsx")
    assert main(["inventory", "import", "-c", str(config_path), str(ledger)]) == 0
    out = capsys.readouterr().out
    assert "新增 6 台设备" in out and "以下列作为设备属性保留: 采购日期" in out
    inventory = load_config(config_path)
    devices = {d.name: d for d in inventory.devices.values()}
    assert {name: d.kind for name, d in devices.items() if name != "核心交换机"} == {
        "人民路口枪机": "camera", "人民路口球机": "camera", "大厅半球": "camera",
        "存储NVR": "recorder", "机房UPS": "ups", "会议室终端": "vc_terminal",
    }
    # the merged 所属单位 reaches every row; 所属系统 matched the system by its name
    assert {d.unit for d in devices.values()} == {"gaj"}
    assert [d.id for d in devices.values() if d.system == "tianyan"] == ["tianyan-001", "tianyan-002", "tianyan-003", "tianyan-004"]
    assert devices["人民路口球机"].attrs == {
        "location": "人民路口", "model": "海康 DS-2DE4", "serial": "SN002", "notes": "云台", "采购日期": "2024-03-01",
    }
    assert devices["存储NVR"].online == "icmp"
    text = config_path.read_text(encoding="utf-8")
    assert text.startswith(CONFIG)  # the existing text is untouched, byte for byte
    assert "    - {id: tianyan-001, name: 人民路口枪机, kind: camera, address: 10.0.12.1, unit: gaj, system: tianyan, attrs: {" in text


def test_reimporting_an_edited_workbook_updates_in_place_and_dry_run_shows_the_diff(
    config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inventory", "import", "-c", str(config_path), str(customer_workbook(tmp_path / "v1.xlsx"))]) == 0
    capsys.readouterr()
    edited = [list(row) for row in ROWS]
    edited[0][1], edited[0][3] = "人民路口东枪机", "10.0.13.1"  # renamed and readdressed: the serial still matches
    edited[2][3] = "10.0.12.33"  # readdressed: the name still matches
    ledger = customer_workbook(tmp_path / "v2.xlsx", edited)
    before = config_path.read_text(encoding="utf-8")
    assert main(["inventory", "import", "--dry-run", "-c", str(config_path), str(ledger)]) == 0
    out = capsys.readouterr().out
    assert "~ tianyan-001: name 人民路口枪机 → 人民路口东枪机; address 10.0.12.1 → 10.0.13.1" in out
    assert "~ tianyan-003: address 10.0.12.3 → 10.0.12.33" in out
    assert "将新增 0 台设备, 将更新 2 台, 4 台不变" in out and "试运行: 配置文件未修改" in out
    assert config_path.read_text(encoding="utf-8") == before
    assert main(["inventory", "import", "-c", str(config_path), str(ledger)]) == 0
    inventory = load_config(config_path)
    assert len(inventory.devices) == 7
    assert inventory.devices["tianyan-001"].address == "10.0.13.1"
    assert inventory.devices["tianyan-003"].address == "10.0.12.33"


def test_an_explicit_id_column_wins(config_path: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "assets.csv"
    ledger.write_text("设备编号,设备名称,设备类型,IP地址\ntianyan-117,东门枪机,枪机,10.0.1.11\n", encoding="utf-8")
    assert main(["inventory", "import", "-c", str(config_path), str(ledger)]) == 0
    ledger.write_text("设备编号,设备名称,设备类型,IP地址\ntianyan-117,东门枪机改,枪机,10.0.1.12\n", encoding="utf-8")
    assert main(["inventory", "import", "-c", str(config_path), str(ledger)]) == 0
    inventory = load_config(config_path)
    assert inventory.devices["tianyan-117"].name == "东门枪机改" and len(inventory.devices) == 2


def test_export_has_seq_chinese_kinds_attributes_a_styled_header_and_imports_back_unchanged(
    config_path: Path, tmp_path: Path
) -> None:
    assert main(["inventory", "import", "-c", str(config_path), str(customer_workbook(tmp_path / "in.xlsx"))]) == 0
    out = tmp_path / "out.xlsx"
    assert main(["inventory", "export", "-c", str(config_path), "-o", str(out)]) == 0
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "序号", "设备编号", "设备名称", "设备类型", "IP地址", "所属单位", "所属系统", "分组", "上级设备",
        "安装位置", "品牌型号", "序列号", "备注", "采购日期",
    )
    assert rows[5][:5] == (5, "tianyan-004", "存储NVR", "录像机", "10.0.12.9")
    assert rows[5][5:7] == ("市公安局", "天眼三期") and rows[5][9:12] == ("机房", "海康 DS-9632", "SN009")
    assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["C"].width >= 14  # 人民路口东枪机: 7 Chinese characters
    before = config_path.read_text(encoding="utf-8")
    assert main(["inventory", "import", "-c", str(config_path), str(out)]) == 0
    assert config_path.read_text(encoding="utf-8") == before


def test_words_not_understood_are_listed_once_each_with_their_rows(
    config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "assets.csv"
    ledger.write_text(
        "设备名称,设备类型,IP地址\n门禁1,门禁,10.0.1.1\n东门,swich,10.0.1.2\n门禁2,门禁,10.0.1.3\n", encoding="utf-8"
    )
    assert main(["inventory", "import", "-c", str(config_path), str(ledger)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"yunwei: {ledger}:2: 设备类型/kind: unknown device kind '门禁' (also row 4): "
        "write a kind such as camera, switch, ups or a word such as 枪机, 交换机, NVR",
        f"yunwei: {ledger}:3: 设备类型/kind: unknown device kind 'swich': did you mean 'switch'?",
    ]
    assert config_path.read_text(encoding="utf-8") == CONFIG


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("设备名称,设备类型,IP地址\n东\x00门,枪机,10.0.1.1\n", ":2: 设备名称/name: contains a control character (U+0000); remove it"),
        ("设备名称,设备类型,IP地址,备注\n东门,枪机,10.0.1.1," + "x" * 140_000 + "\n", ":2: a cell is longer than 128 KB"),
    ],
)
def test_control_characters_and_huge_cells_are_one_line_errors(
    config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    ledger = tmp_path / "assets.csv"
    ledger.write_text(content, encoding="utf-8")
    assert main(["inventory", "import", "-c", str(config_path), str(ledger)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err, err
    assert config_path.read_text(encoding="utf-8") == CONFIG


def test_a_directory_named_like_a_ledger_is_a_one_line_error(
    config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "x.csv").mkdir()
    assert main(["inventory", "import", "-c", str(config_path), str(tmp_path / "x.csv")]) == 2
    assert capsys.readouterr().err.strip() == f"yunwei: {tmp_path / 'x.csv'}: is a directory, not a ledger file"


def test_importing_into_the_example_config_changes_nothing_but_the_imported_devices(tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    config = tmp_path / "config.yaml"
    original = (REPO / "config.example.yaml").read_text(encoding="utf-8")
    config.write_text(original, encoding="utf-8")
    ledger = customer_workbook(tmp_path / "台账.xlsx")
    assert main(["inventory", "import", "-c", str(config), str(ledger)]) == 0
    text = config.read_text(encoding="utf-8")
    removed = [line for line in original.splitlines() if line not in text.splitlines()]
    assert removed == []  # every original line is still there, comments and columns as they were
    assert load_config(config).devices["cam-0001"].group == "lantian-cameras"
