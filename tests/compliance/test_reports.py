"""The report opened back: the xlsx with openpyxl, the html rendered in headless Chromium, the
docx with python-docx; the same numbers in every format."""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn

from cli.main import main
from compliance.causes import cause_text
from compliance.plots import CJK_FONTS, cjk_font, rate_png
from tests.compliance.conftest import CONTRACTS
from tests.compliance.ledgers import MUNICIPAL_NOW, VC_NOW, fault, municipal_month, rec, t, vc_month
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
    assert book.sheetnames == ["汇总", "在线率", "设备在线率", "故障", "漏洞", "日常工作", "扣分明细"]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(values_only=True) if row and row[0]}
    assert summary["考核得分"] == 89.5 and summary["考核等级"] == "良好"
    assert summary["扣减金额（元）"] == 48437.5 and summary["处罚金额（元）"] == 70000
    assert summary["扣减比例"] == 0.05 and summary["生成时间"] == "2026-10-12 09:00"
    online = list(book["在线率"].iter_rows(values_only=True))
    lantian = next(r for r in online if r[0] == "蓝天卫士")
    assert lantian[1:5] == (50, 0.9995, 0.95, "是")
    tianyan = next(r for r in online if r[0] == "天眼（一期、二期）")
    assert tianyan[4] == "否" and tianyan[7] == 1 and tianyan[6] == "2026-10-02 00:00"
    devices = list(book["设备在线率"].iter_rows(values_only=True))
    assert sum(1 for r in devices if r[1] and str(r[1]).startswith(("lantian-", "tianyan-"))) == 70  # every device
    assert len(book["在线率"]._charts) == 2  # a native Excel chart per group: rate and threshold
    sheet = book["在线率"]
    rate_cell = next(row for row in sheet.iter_rows() if row[0].value == "蓝天卫士")[2]
    assert rate_cell.number_format == "0.00%"
    flag = next(row for row in sheet.iter_rows() if row[0].value == "天眼（一期、二期）")[4]
    assert flag.font.b and flag.font.color.rgb.endswith("C00000")  # the miss in red
    assert sheet["A2"].font.b and sheet["A2"].fill.fgColor.rgb.endswith("DCE6F1")  # the header row
    # planned maintenance: hours per group, how the contract counts it, and the window itself
    assert online[1][9] == "计划维护（设备·小时）" and lantian[9] == 6.0 and tianyan[9] == 0.0
    assert any(r[0] and str(r[0]).startswith("计划维护时间不计入考核时长") and "共 6.00 设备·小时" in r[0] for r in online)
    assert ("摄像机固件升级", "市生态环境局", "2026-09-25 00:00", "2026-09-25 06:00", 6, 1) in [r[:6] for r in online]
    assert next(r for r in devices if r[1] == "lantian-007")[8] == 6
    faults = list(book["故障"].iter_rows(values_only=True))
    assert [r[0] for r in faults if r[0] in ("F1", "F2", "F3", "G1", "G3")] == ["F1", "G1", "F2", "F3", "G3"]  # by time opened
    f1 = next(r for r in faults if r[0] == "F1")
    assert f1[2:8] == ("市大数据局", "政务云平台", "cloud-node-1", "存储链路中断", None, "2026-09-15 10:00")
    details = list(book["扣分明细"].iter_rows(values_only=True))
    assert any(r[0] == "异常处置" and r[2] == -10 and "F2" in r[3] for r in details)
    online_penalty = next(r for r in details if r[0] == "系统在线率未达标")
    assert online_penalty[1] == 20000 and "97.86%" in online_penalty[2] and "3288" in online_penalty[3]
    daily = list(book["日常工作"].iter_rows(values_only=True))
    assert daily[1][0] == "类型" and any(r[0] == "各单位记录数" and "巡检" in r for r in daily)


def test_xlsx_sheets_are_set_up_to_print(reports: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(reports["xlsx"])
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert setup.paperSize in ("9", 9) and setup.fitToWidth == 1 and setup.fitToHeight == 0
        assert setup.orientation == ("portrait" if sheet.title == "汇总" else "landscape")
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.print_title_rows == "$1:$2" and "&P" in sheet.oddFooter.center.text
        assert sheet.column_dimensions["A"].width >= 10


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
    assert "89.50" in dom and "48,437.50" in dom and "70,000.00" in dom and "99.95%" in dom
    assert "计划维护时间不计入考核时长" in dom and "<td>摄像机固件升级</td>" in dom
    assert "<td>cloud-node-1</td><td>存储链路中断</td><td>2026-09-15 10:00</td>" in dom


def test_docx_is_a_monthly_report_with_tables_and_charts(reports: dict[str, Path]) -> None:
    document = docx.Document(str(reports["docx"]))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "运维工作月报"
    assert "2026-09 考核得分 89.50 分，等级“良好”，扣减 5%（48,437.50 元），处罚 70,000.00 元。" in texts
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:3] == ["一、汇总", "二、考核分项", "各使用单位得分"]
    assert texts[-1].startswith("编制：")
    summary = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert summary["考核得分"] == "89.50" and summary["扣减金额（元）"] == "48,437.50"
    units = document.tables[2]
    assert [c.text for c in units.rows[7].cells[:2]] == ["市大数据局", "67.00"]
    assert len(document.inline_shapes) == 3  # two daily-rate charts and the faults per level
    assert any(text.startswith("计划维护时间不计入考核时长") and "共 6.00 设备·小时" in text for text in texts)
    window = next(table for table in document.tables if table.rows[0].cells[0].text == "计划维护时段")
    assert [c.text for c in window.rows[1].cells] == ["摄像机固件升级", "市生态环境局", "2026-09-25 00:00",
                                                      "2026-09-25 06:00", "6.00", "1"]
    online = next(table for table in document.tables if table.rows[0].cells[0].text == "分组")
    assert [c.text for c in online.rows[0].cells][-1] == "未知时长（设备·小时）"
    faults = next(t for t in document.tables if len(t.columns) == 8 and t.rows[0].cells[3].text == "设备")
    assert [c.text for c in faults.rows[1].cells] == ["F1", "2", "市大数据局\n政务云平台", "cloud-node-1", "存储链路中断",
                                                      "2026-09-15 10:00", "8.00\n330.00", "是"]
    penalties = next(table for table in document.tables if table.rows[0].cells[0].text == "处罚")
    assert [c.text for c in penalties.rows[0].cells] == ["处罚", "金额（元）", "原因", "依据"]
    assert "97.86%" in penalties.rows[1].cells[2].text and "3288" in penalties.rows[1].cells[3].text
    images = [part for part in document.part.package.parts if part.partname.endswith(".png")]
    assert len(images) == 3 and all(image.blob.startswith(b"\x89PNG\r\n\x1a\n") for image in images)


def test_docx_house_style(reports: dict[str, Path]) -> None:
    document = docx.Document(str(reports["docx"]))
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)  # A4 portrait
    for name, font in (("Heading 1", "黑体"), ("Normal", "宋体")):
        style = document.styles[name]
        fonts = style.element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")) == font and fonts.get(qn("w:eastAsiaTheme")) is None
        assert style.font.color.rgb == docx.shared.RGBColor(0, 0, 0) and style.font.color.theme_color is None
    title = document.paragraphs[0].runs[0]
    assert title.font.size.pt == 22 and title.bold  # 二号, bold
    text_width = section.page_width - section.left_margin - section.right_margin
    for table in document.tables:
        assert sum(cell.width for cell in table.rows[0].cells) <= text_width + 10  # fits the page


def test_fault_causes_are_in_chinese_with_the_raw_text_in_an_appendix(tmp_path: Path) -> None:
    lines = [*municipal_month(), fault("E1", 3, "2026-09-26T10:00", "2026-09-26T10:05", "2026-09-26T11:00", unit="gaj",
                                       system="tianyan", device="tianyan-09", cause="connection refused")]
    ledger = tmp_path / "m.jsonl"
    ledger.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    out = tmp_path / "r.docx"
    assert main(["report", "-q", "-c", str(tmp_path / "none.yaml"), "--contract", str(CONTRACTS / "municipal.yaml"),
                 "--period", "2026-09", "--ledger", str(ledger), "--now", MUNICIPAL_NOW, "-o", str(out)]) == 0
    document = docx.Document(str(out))
    faults = next(t for t in document.tables if len(t.columns) == 8 and t.rows[0].cells[3].text == "设备")
    assert next(r for r in faults.rows if r.cells[0].text == "E1").cells[4].text == "连接被拒绝"
    appendix = document.tables[-1]
    assert [c.text for c in appendix.rows[0].cells] == ["编号", "设备", "报告所列原因", "原文"]
    assert [c.text for c in appendix.rows[1].cells] == ["E1", "tianyan-09", "连接被拒绝", "connection refused"]


@pytest.mark.parametrize(("raw", "shown", "appendix"), [
    ("connection refused", "连接被拒绝", True),
    ("100% loss (3 sent)", "无应答", True),
    ("auth failed", "认证失败", True),
    ("timed out after 2.0 s", "超时无应答", True),
    ("host unreachable", "网络不可达", True),
    ("weird thing", "其他错误（原文见附录）", True),
    ("存储链路中断", "存储链路中断", False),
    ("", "", False),
])
def test_cause_text(raw: str, shown: str, appendix: bool) -> None:
    assert cause_text(raw) == (shown, appendix)
    assert cause_text(raw, "en") == (raw, False)


def test_charts_are_drawn_with_a_cjk_font() -> None:
    font = cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (Debian: apt-get install fonts-noto-cjk)")
    days: list[dict[str, Any]] = [{"date": f"2026-11-{d:02d}", "rate": 0.99 if d != 5 else 0.9, "threshold": 0.95}
                                  for d in range(1, 11)]
    png = rate_png("蓝天卫士：每日在线率与考核指标", days, {"rate": "日在线率", "threshold": "考核指标"})
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and font in CJK_FONTS


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
    assert docx_parts == {p["name"]: f"{p['value']:.2f}" for p in result["parts"]}
    for group in result["online_rates"]:
        if group["rate"] is not None:
            assert f">{group['rate'] * 100:.2f}%<" in html
            row = next(r for r in book["在线率"].iter_rows(values_only=True) if r[0] == group["name"])
            assert row[2] == group["rate"]


def test_json_lists_the_maintenance_windows_and_how_they_count(reports: dict[str, Path]) -> None:
    result = json.loads(reports["json"].read_text(encoding="utf-8"))
    assert result["maintenance"]["mode"] == "exclude"
    [window] = result["maintenance"]["windows"]
    assert (window["name"], window["hours"], window["devices"], window["device_ids"]) == ("摄像机固件升级", 6.0, 1,
                                                                                          ["lantian-007"])
    lantian = next(g for g in result["online_rates"] if g["group"] == "lantian")
    assert lantian["maintenance_hours"] == 6.0


def test_without_a_cjk_font_the_charts_say_so(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
                                              tmp_path: Path) -> None:
    import compliance.plots as plots

    monkeypatch.setattr(plots, "CJK_FONTS", ())
    plots.cjk_font.cache_clear()
    try:
        with caplog.at_level("WARNING", logger="yunwei.compliance"):
            ledger = tmp_path / "m.jsonl"
            ledger.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in vc_month()), encoding="utf-8")
            out = tmp_path / "r.docx"
            assert main(["report", "-q", "-c", str(tmp_path / "none.yaml"), "--contract",
                         str(CONTRACTS / "vc_medical.yaml"), "--period", "2025-04", "--ledger", str(ledger), "--now",
                         VC_NOW, "-o", str(out)]) == 0
        assert "no CJK font found" in caplog.text and "fonts-noto-cjk" in caplog.text
        texts = [p.text for p in docx.Document(str(out)).paragraphs]
        assert any("未找到中文字体" in text and "fonts-noto-cjk" in text for text in texts)
    finally:
        plots.cjk_font.cache_clear()
