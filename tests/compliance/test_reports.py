"""The report opened back: the xlsx with openpyxl, the html rendered in headless Chromium, the
docx with python-docx; the same numbers in every format."""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest

from agent.cli import main
from compliance.charts import BLUE, RED, rate_chart
from compliance.png import to_png
from tests.compliance.conftest import CONTRACTS
from tests.compliance.ledgers import MUNICIPAL_NOW, VC_NOW, municipal_month, rec, t, vc_month
from tests.peers import need_binary

# the maintenance window alerting files for lantian-007's 6 hours of planned work (the golden month
# has them as a maintenance state already, so no number changes)
WINDOW = rec("maintenance", "sthjj", "2026-09-25T00:00", "lantian", name="摄像机固件升级", start=t("2026-09-25T00:00"),
             end=t("2026-09-25T06:00"), devices=["lantian-007"])


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The municipal golden month in every format (one computation per format, from the CLI)."""
    tmp = tmp_path_factory.mktemp("reports")
    ledger = tmp / "month.jsonl"
    ledger.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in [*municipal_month(), WINDOW]),
                      encoding="utf-8")
    paths = {}
    for fmt in ("json", "xlsx", "html", "docx"):
        path = tmp / f"report.{fmt}"
        code = main(["report", "-q", "-c", str(tmp / "none.yaml"), "--contract", str(CONTRACTS / "municipal.yaml"),
                     "--period", "2026-09", "--ledger", str(ledger), "--now", MUNICIPAL_NOW, "-o", str(path)])
        assert code == 0
        paths[fmt] = path
    return paths


def test_progress_is_shown_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = tmp_path / "month.jsonl"
    ledger.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in vc_month()), encoding="utf-8")
    assert main(["report", "-c", str(tmp_path / "none.yaml"), "--contract", str(CONTRACTS / "vc_medical.yaml"),
                 "--period", "2025-04", "--ledger", str(ledger), "--now", VC_NOW, "-o", str(tmp_path / "r.docx")]) == 0
    err = capsys.readouterr().err
    steps = re.findall(r"yunwei report: \[\s*[\d.]+s\] (\w+)", err)
    assert steps[:3] == ["contract", "reading", "online"] and "rendering" in steps and "wrote" in steps
    assert "vc_medical 2025-04: score 64.00, 不合格（没收 50% 履约保证金）, cut 50% = ¥59,575.00" in err


def test_xlsx_opens_with_its_sheets_and_numbers(reports: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(reports["xlsx"])
    assert book.sheetnames == ["汇总", "在线率", "故障", "漏洞", "日常工作", "扣分明细"]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(values_only=True) if row and row[0]}
    assert summary["考核得分"] == 89.5 and summary["考核等级"] == "良好"
    assert summary["扣减金额（元）"] == 48437.5 and summary["处罚金额（元）"] == 70000
    assert summary["扣减比例"] == 0.05
    online = list(book["在线率"].iter_rows(values_only=True))
    lantian = next(r for r in online if r[0] == "lantian")
    assert lantian[1:6] == ("蓝天卫士", 50, 0.9995, 0.95, "是")
    tianyan = next(r for r in online if r[0] == "tianyan")
    assert tianyan[5] == "否" and tianyan[7] == 1
    assert sum(1 for r in online if r[0] and str(r[0]).startswith(("lantian-", "tianyan-"))) == 70  # every device
    assert len(book["在线率"]._charts) == 1  # a native Excel chart of the daily rates
    sheet = book["在线率"]
    rate_cell = next(row for row in sheet.iter_rows() if row[0].value == "lantian")[3]
    assert rate_cell.number_format == "0.00%"
    flag = next(row for row in sheet.iter_rows() if row[0].value == "tianyan")[5]
    assert flag.font.b and flag.font.color.rgb.endswith("C00000")  # the miss in red
    assert sheet["A2"].font.b and sheet["A2"].fill.fgColor.rgb.endswith("DCE6F1")  # the header row
    # planned maintenance: hours per group, how the contract counts it, and the window itself
    assert online[1][9] == "计划维护（设备·小时）" and lantian[9] == 6.0 and tianyan[9] == 0.0
    assert any(r[0] and str(r[0]).startswith("计划维护时间不计入考核时长") and "共 6 设备·小时" in r[0] for r in online)
    assert ("摄像机固件升级", "市生态环境局", "2026-09-25T00:00:00+08:00", "2026-09-25T06:00:00+08:00", 6, 1) in [
        r[:6] for r in online]
    assert next(r for r in online if r[0] == "lantian-007")[8] == 6
    faults = list(book["故障"].iter_rows(values_only=True))
    assert [r[0] for r in faults if r[0] in ("F1", "F2", "F3", "G1", "G3")] == ["F1", "G1", "F2", "F3", "G3"]  # by time opened
    details = list(book["扣分明细"].iter_rows(values_only=True))
    assert any(r[0] == "异常处置" and r[2] == -10 and "F2" in r[3] for r in details)
    assert any(r[0] == "系统在线率未达标" and r[1] == 20000 for r in details)
    daily = list(book["日常工作"].iter_rows(values_only=True))
    assert daily[1][0] == "单位" and "巡检" in daily[1]


def test_html_renders_in_chromium_with_its_charts(reports: dict[str, Path], tmp_path: Path) -> None:
    chromium = need_binary("chromium", "/usr/bin/chromium")
    html = reports["html"].read_text(encoding="utf-8")
    # self-contained: no script, stylesheet link, image or font from anywhere
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", reports["html"].as_uri()],
        capture_output=True, text=True, timeout=90, check=True)
    dom = result.stdout
    assert "<h1>运维工作月报</h1>" in dom
    charts = re.findall(r'<svg[^>]*class="chart chart-(\w+)"', dom)
    assert charts == ["rate", "rate", "levels"]  # lantian and tianyan daily rates, faults per level
    lantian_chart = dom[dom.index('id="chart-lantian"'):dom.index('id="chart-tianyan"')]
    assert lantian_chart.count("<circle") == 30 and "stroke-dasharray" in lantian_chart
    assert lantian_chart.count('fill="rgb(220,38,38)"') == 0  # no day of lantian below its target
    tianyan_chart = dom[dom.index('id="chart-tianyan"'):dom.index('id="chart-levels"')]
    assert tianyan_chart.count('<circle cx') == 30 and tianyan_chart.count('r="3.2" fill="rgb(220,38,38)"') == 3
    levels_chart = dom[dom.index('id="chart-levels"'):]
    assert levels_chart[:levels_chart.index("</svg>")].count("<rect") == 1 + 8  # background + 2 bars x 4 levels
    assert "89.5" in dom and "48,437.50" in dom and "70,000.00" in dom
    assert "计划维护时间不计入考核时长" in dom and "<td>摄像机固件升级</td>" in dom


def test_docx_is_a_monthly_report_with_tables_and_charts(reports: dict[str, Path]) -> None:
    document = docx.Document(str(reports["docx"]))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "运维工作月报"
    assert "2026-09 考核得分 89.5 分，等级“良好”，扣减 5%（48,437.50 元），处罚 70,000.00 元。" in texts
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:3] == ["一、汇总", "二、考核分项", "各使用单位得分"]
    assert texts[-1].startswith("编制：")
    summary = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert summary["考核得分"] == "89.5" and summary["扣减金额（元）"] == "48,437.50"
    units = document.tables[2]
    assert [c.text for c in units.rows[7].cells[:2]] == ["市大数据局", "67"]
    assert len(document.inline_shapes) == 3  # two daily-rate charts and the faults per level
    assert any(text.startswith("计划维护时间不计入考核时长") and "共 6 设备·小时" in text for text in texts)
    window = next(table for table in document.tables if table.rows[0].cells[0].text == "计划维护时段")
    assert [c.text for c in window.rows[1].cells] == ["摄像机固件升级", "市生态环境局", "2026-09-25T00:00:00+08:00",
                                                      "2026-09-25T06:00:00+08:00", "6", "1"]
    images = [part for part in document.part.package.parts if part.partname.endswith(".png")]
    assert len(images) == 3 and all(image.blob.startswith(b"\x89PNG\r\n\x1a\n") for image in images)


def _decode_png(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, width, height, idat = 8, 0, 0, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    rows = [raw[y * (width * 3 + 1) + 1:(y + 1) * (width * 3 + 1)] for y in range(height)]
    return width, height, b"".join(rows)


def test_png_chart_is_a_valid_image_with_the_rate_and_threshold_drawn() -> None:
    days: list[dict[str, Any]] = [{"date": f"2026-11-{d:02d}", "rate": 0.99 if d != 5 else 0.9, "threshold": 0.95}
                                  for d in range(1, 11)]
    width, height, pixels = _decode_png(to_png(rate_chart("x", days)))
    assert (width, height) == (1440, 520)
    colors = {pixels[i:i + 3] for i in range(0, len(pixels), 3)}
    assert bytes(BLUE) in colors and bytes(RED) in colors


def test_every_format_shows_the_same_result(reports: dict[str, Path]) -> None:
    result = json.loads(reports["json"].read_text(encoding="utf-8"))
    html = reports["html"].read_text(encoding="utf-8")
    book = openpyxl.load_workbook(reports["xlsx"])
    document = docx.Document(io.BytesIO(reports["docx"].read_bytes()))
    for part in result["parts"]:
        row = next(r for r in book["汇总"].iter_rows(values_only=True) if r[1] == part["name"])
        assert row[3] == part["value"]
        assert f"<td>{part['name']}</td>" in html
    docx_parts = {row.cells[0].text: row.cells[2].text for row in document.tables[1].rows[1:]}
    assert docx_parts == {p["name"]: f"{p['value']:g}" for p in result["parts"]}


def test_json_lists_the_maintenance_windows_and_how_they_count(reports: dict[str, Path]) -> None:
    result = json.loads(reports["json"].read_text(encoding="utf-8"))
    assert result["maintenance"]["mode"] == "exclude"
    [window] = result["maintenance"]["windows"]
    assert (window["name"], window["hours"], window["devices"], window["device_ids"]) == ("摄像机固件升级", 6.0, 1,
                                                                                          ["lantian-007"])
    lantian = next(g for g in result["online_rates"] if g["group"] == "lantian")
    assert lantian["maintenance_hours"] == 6.0
