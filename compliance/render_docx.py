"""A draft 运维工作月报 (monthly O&M report, one of the contract's required documents) as a Word
file in the house style of a Chinese government document: A4 portrait, the title in 宋体 二号
bold, headings in 黑体 / 楷体 三号 (black, not Word's blue theme headings), body in 宋体 小四,
tables in 五号 / 小五 that fit the text width with their header row repeated on every page, unit,
system and device names instead of ids, times as 2026-11-12 09:12, causes in Chinese with the
raw text in an appendix, page numbers in the footer. Charts are PNG drawn by matplotlib
(``compliance.plots``) with a CJK font found on the system."""

from __future__ import annotations

import io
import re
from typing import Any
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table

from compliance.plots import cjk_font, levels_png, rate_png
from compliance.reportdata import (
    Names,
    Words,
    all_items,
    fault_rows,
    hours_text,
    level_rows,
    listed,
    maintenance_note,
    maintenance_rows,
    minutes_text,
    notable_faults,
    pct,
    penalty_rows,
    points_text,
    raw_causes,
    score_text,
    summary_rows,
    summary_sentence,
)

SONG, HEI, KAI = "宋体", "黑体", "楷体"
LATIN = "Times New Roman"
BLACK = RGBColor(0, 0, 0)
RED = RGBColor(0xC0, 0x00, 0x00)
TEXT_WIDTH = 15.6  # cm: A4 21 cm less margins 2.8 + 2.6
FAULT_ROWS = 100   # a Word table of thousands of rows helps nobody; the xlsx has them all
ITEM_ROWS = 200
CHARTS = 8         # daily-rate charts in the Word report; the xlsx has one per group
FIVE, SMALL_FIVE = 10.5, 9.0  # 五号, 小五
CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")  # not allowed in XML (a device's raw error text may hold them)


def _fonts(rpr_owner: Any, east_asia: str) -> None:
    """Explicit fonts on a style or run: the theme fonts (which win over names) removed."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), LATIN)
    fonts.set(qn("w:hAnsi"), LATIN)
    fonts.set(qn("w:eastAsia"), east_asia)
    color = rpr.find(qn("w:color"))
    if color is not None:
        rpr.remove(color)


def _style(style: Any, east_asia: str, size: float, bold: bool = False, before: float = 0, after: float = 0) -> None:
    _fonts(style.element, east_asia)
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = BLACK
    fmt = style.paragraph_format
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    fmt.keep_with_next = style.name.startswith("Heading")
    ppr = style.element.get_or_add_pPr()
    border = ppr.find(qn("w:pBdr"))
    if border is not None:
        ppr.remove(border)


def _page(document: Any) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.0), Cm(2.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    footer._p.append(field)
    footer.add_run(" —")


def _cell_xml(value: Any, width: int, size: float, bold: bool = False, red: bool = False, align: str = "") -> str:
    """One table cell as WordprocessingML: its width, one paragraph without spacing after, one run
    (``\n`` a line break). Rows are parsed from this text whole: python-docx's object calls per
    cell cost ~1 ms each, a month's tables have thousands of cells."""
    text = CONTROL.sub("", "—" if value is None or value == "" else str(value))
    pieces = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(part)}</w:t>' for part in text.split("\n"))
    half_points = int(size * 2)
    run_pr = (("<w:b/>" if bold else "") + ('<w:color w:val="C00000"/>' if red else "")
              + f'<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>')
    justify = f'<w:jc w:val="{align}"/>' if align else ""
    return (f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr><w:p><w:pPr><w:spacing w:after="0"/>{justify}'
            f"</w:pPr><w:r><w:rPr>{run_pr}</w:rPr>{pieces}</w:r></w:p></w:tc>")


def _row_xml(cells: list[str], header: bool = False) -> Any:
    # a row is never broken across pages; the header row is repeated on each page
    row_pr = '<w:cantSplit w:val="true"/>' + ('<w:tblHeader w:val="true"/>' if header else "")
    return parse_xml(f"<w:tr {nsdecls('w')}><w:trPr>{row_pr}</w:trPr>{''.join(cells)}</w:tr>")


def _table(document: Any, headers: list[str], rows: list[list[Any]], widths: list[float],
           bad: set[tuple[int, int]] | None = None, size: float = FIVE, numeric: set[int] | None = None) -> Table:
    """A table that fits the text width (``widths`` in cm, scaled to it), header row repeated on each page."""
    scale = min(1.0, TEXT_WIDTH / sum(widths))
    twips = [int(Cm(width * scale).twips) for width in widths]
    table = document.add_table(rows=0, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)
    # Word reads the cells' widths, LibreOffice the grid's: set both
    for grid_column, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), twips, strict=True):
        grid_column.set(qn("w:w"), str(width))
    tbl = table._tbl
    tbl.append(_row_xml([_cell_xml(text, width, size, bold=True, align="center")
                         for text, width in zip(headers, twips, strict=True)], header=True))
    numeric = numeric or set()
    for r, values in enumerate(rows):
        cells = []
        for c, (value, width) in enumerate(zip(values, twips, strict=True)):
            late = bool(bad and (r, c) in bad)
            cells.append(_cell_xml(value, width, size, bold=late, red=late, align="right" if c in numeric else ""))
        tbl.append(_row_xml(cells))
    return table


def _paragraph(document: Any, text: str, size: float | None = None, align: Any = None, bold: bool = False) -> Any:
    paragraph = document.add_paragraph()
    run = paragraph.add_run(text)
    if size is not None:
        run.font.size = Pt(size)
    run.bold = bold
    if align is not None:
        paragraph.alignment = align
    return paragraph


def _truncated(document: Any, w: Words, shown: int, total: int) -> None:
    if total > shown:
        _paragraph(document, w["truncated"].format(shown=shown, total=total), SMALL_FIVE)


def _picture(document: Any, png: bytes, caption: str, width: float = 15) -> None:
    document.add_picture(io.BytesIO(png), width=Cm(width))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(document, caption, SMALL_FIVE, WD_ALIGN_PARAGRAPH.CENTER)


def _document() -> Any:
    document = Document()
    _page(document)
    _style(document.styles["Normal"], SONG, 12)
    document.styles["Normal"].paragraph_format.line_spacing = 1.25
    _style(document.styles["Heading 1"], HEI, 16, before=12, after=6)   # 三号黑体
    _style(document.styles["Heading 2"], KAI, 15, bold=True, before=8, after=4)  # 楷体
    _style(document.styles["List Bullet"], SONG, FIVE)
    return document


def render_docx(result: dict[str, Any]) -> bytes:
    w = Words(result)
    n = Names(result)
    english = result.get("language") == "en"
    document = _document()
    contract = result["contract"]
    period = result["period"]
    title = _paragraph(document, w["title"], 22, WD_ALIGN_PARAGRAPH.CENTER, bold=True)  # 二号宋体加粗
    title.paragraph_format.space_after = Pt(6)
    _paragraph(document, f"{contract['name'] or contract['id']}　{period['label']}（{period['first']} ~ {period['last']}）",
               14, WD_ALIGN_PARAGRAPH.CENTER)

    sections = ["一、", "二、", "三、", "四、", "五、", "六、", "七、", "八、", "九、"] if not english else [
        f"{i}. " for i in range(1, 10)]
    document.add_heading(sections[0] + w["summary"], level=1)
    _paragraph(document, summary_sentence(result, w))
    for reason in period.get("provisional_reasons", []):
        _paragraph(document, f"{w['provisional']}：{reason}", bold=True)
    _table(document, [w["item"], w["content"]], [[label, text] for label, text, _n in summary_rows(result, w)], [5, 10.6])

    document.add_heading(sections[1] + w["parts"], level=1)
    parts = result["parts"]
    _table(document, [w["part"], w["points"], w["value"], w["lost"]],
           [[p["name"], score_text(p["points"]), score_text(p["value"]), score_text(p["lost"])] for p in parts],
           [7.6, 2.6, 2.7, 2.7], {(r, 3) for r, p in enumerate(parts) if p["lost"] and p["lost"] > 0},
           numeric={1, 2, 3})
    if result["units"]:
        document.add_heading(w["units"], level=2)
        part_ids = [p["id"] for p in parts]
        _table(document, [w["unit"], w["score"], *[p["name"] for p in parts]],
               [[u["name"] or u["id"], score_text(u["score"]), *[score_text(u["parts"].get(p)) for p in part_ids]]
                for u in result["units"]], [3.2, 1.8, *[10.6 / len(parts)] * len(parts)],
               size=SMALL_FIVE if len(parts) > 5 else FIVE, numeric=set(range(1, len(parts) + 2)))

    document.add_heading(sections[2] + w["online"], level=1)
    groups = result["online_rates"]
    _table(document, [w["group"], w["devices"], w["rate"], w["threshold"], w["met"], w["worst"], w["episodes"],
                      w["minutes_below"], w["maintenance_hours"], w["unknown_hours"]],
           [[g["name"], g["devices"], pct(g["rate"]), pct(g["threshold"]), w.flag(g["met"]),
             pct(g["worst_instant"]["rate"]) if g["worst_instant"] else None, g["breach_episodes"],
             minutes_text(g["minutes_below"]), hours_text(g["maintenance_hours"]), hours_text(g["unknown_hours"])]
            for g in groups], [2.4, 1.0, 1.8, 1.8, 0.9, 1.8, 1.2, 1.7, 1.5, 1.5],
           {(r, 4) for r, g in enumerate(groups) if g["met"] is False}, size=SMALL_FIVE,
           numeric={1, 2, 3, 5, 6, 7, 8, 9})
    _paragraph(document, maintenance_note(result, w), FIVE)
    windows = maintenance_rows(result)
    if windows:
        document.add_heading(w["maintenance_list"], level=2)
        _table(document, [w["maintenance_list"], w["unit"], w["start"], w["end"], w["hours"], w["devices"]],
               [[name, unit, start, end, hours_text(hours), devices] for name, unit, start, end, hours, devices in windows],
               [3.6, 2.6, 2.9, 2.9, 1.8, 1.8], size=SMALL_FIVE, numeric={4, 5})
    periods = [(g, p) for g in groups for p in g["important_periods"]]
    if periods:
        document.add_heading(w["important"], level=2)
        _table(document, [w["group"], w["important"], w["start"], w["end"], w["threshold"], w["rate"], w["met"]],
               [[g["name"], p["name"], p["first"], p["last"], pct(p["threshold"]), pct(p["rate"]), w.flag(p["met"])]
                for g, p in periods], [3.2, 2.4, 2.2, 2.2, 1.8, 2.0, 1.2],
               {(r, 6) for r, (_g, p) in enumerate(periods) if p["met"] is False}, numeric={4, 5})
    labels = {"rate": w["legend_rate"], "threshold": w["legend_threshold"]}
    charted = sorted((g for g in groups if any(d["rate"] is not None for d in g["daily"])),
                     key=lambda g: (g["met"] is not False, g["threshold"] is None, g["rate"] or 0))
    if len(charted) > CHARTS:  # the groups that missed first, then the judged ones, lowest rate first
        _paragraph(document, w["charts_more"].format(shown=CHARTS, total=len(charted)), SMALL_FIVE)
    for group in sorted(charted[:CHARTS], key=groups.index):
        title_text = w["chart_rate"].format(name=group["name"])
        _picture(document, rate_png(title_text, group["daily"], {**labels, "title_en": f"{group['group']}: daily"
                                                                  " online rate against the target"}), title_text)

    document.add_heading(sections[3] + w["faults"], level=1)
    summary = result["faults"]["summary"]
    levels = level_rows(result)
    _table(document, [w["level"], w["total"], w["overdue"]],
           [[w["level_label"].format(level=level), count, overdue] for level, count, overdue in levels], [5, 5, 5.6],
           {(r, 2) for r, (_l, _c, overdue) in enumerate(levels) if overdue}, numeric={1, 2})
    _paragraph(document, f"{w['resolution_rate']}：{pct(summary['resolution_rate'])}；{w['mean_response']}："
               f"{minutes_text(summary['mean_response_minutes'])}；{w['mean_resolution']}："
               f"{minutes_text(summary['mean_resolution_minutes'])}", FIVE)
    _picture(document, levels_png(w["chart_levels"], [(w["level_label"].format(level=level), count, overdue)
                                                      for level, count, overdue in levels],
                                  {"faults": w["legend_faults"], "overdue": w["legend_overdue"]}), w["chart_levels"], 11)
    faults, total = listed(notable_faults(result), FAULT_ROWS)
    if faults:
        # unit over system and response over resolution share a cell: room for the device's name
        rows = [[r[0], r[1], f"{r[2]}\n{r[3]}", r[4], r[5], r[6], f"{r[7]}\n{r[8]}", r[9]]
                for r in fault_rows(result, faults, w)]
        _table(document, [w["id"], w["level"], f"{w['unit']}\n{w['system']}", w["device"], w["cause"], w["opened"],
                          w["response_resolution"], w["overdue"]],
               rows, [1.3, 0.6, 2.6, 3.2, 2.0, 2.9, 2.0, 0.8],
               {(r, 7) for r, row in enumerate(rows) if row[7] == w["yes"]}, size=SMALL_FIVE, numeric={1, 6})
        _truncated(document, w, len(faults), total)

    document.add_heading(sections[4] + w["vulns"], level=1)
    vulns = result["vulns"]["items"]
    if vulns:
        _table(document, [w["id"], w["severity"], w["unit"], w["system"], w["name"], w["found"], w["hours_open"],
                          w["overdue"]],
               [[v["id"], w.severity(v["severity"]), n.unit(v["unit"]), n.system(v["system"]), v["name"], n.time(v["found"]),
                 hours_text(v["hours_open"]), w.flag(v["overdue"])] for v in vulns],
               [1.3, 1.1, 2.0, 2.6, 2.8, 2.2, 1.5, 1.0], {(r, 7) for r, v in enumerate(vulns) if v["overdue"]},
               size=SMALL_FIVE, numeric={6})
    else:
        _paragraph(document, w["no_data"])

    document.add_heading(sections[5] + w["daily"], level=1)
    records = result["records"]
    kinds = sorted(records["counts"])
    if kinds:
        shown = kinds[:10]
        _table(document, [w["unit"], *[w.kind(k) for k in shown]],
               [[n.unit(unit) or "—", *[counts.get(k, 0) for k in shown]] for unit, counts in records["by_unit"].items()],
               [3.2, *[12.4 / len(shown)] * len(shown)], size=SMALL_FIVE, numeric=set(range(1, len(shown) + 1)))
    else:
        _paragraph(document, w["no_data"])

    document.add_heading(sections[6] + w["details"], level=1)
    items, total = listed([i for i in all_items(result) if i["points"]], ITEM_ROWS)
    if items:
        _table(document, [w["part"], w["unit"], w["points"], w["reason"]],
               [[i["part"], n.unit(i["unit"]), points_text(i["points"]), i["reason"]] for i in items],
               [2.4, 2.4, 1.7, 9.1], {(r, 2) for r, i in enumerate(items) if i["points"] < 0}, size=SMALL_FIVE,
               numeric={2})
        _truncated(document, w, len(items), total)
    else:
        _paragraph(document, w["no_data"])
    if result["penalties"]:
        document.add_heading(w["penalties"], level=2)
        rows, total = listed(penalty_rows(result), ITEM_ROWS)
        _table(document, [w["penalties"], w["amount"], w["reason"], w["evidence"]],
               [row[:4] for row in rows], [2.6, 2.0, 5.8, 5.2], size=SMALL_FIVE, numeric={1})
        _truncated(document, w, len(rows), total)

    document.add_heading(sections[7] + w["warnings"], level=1)
    notes = list(result["warnings"])
    if cjk_font() is None:
        notes.append("未找到中文字体，图表标签以英文显示（Debian/Ubuntu：apt-get install fonts-noto-cjk）")
    for note in notes or [w["no_data"]]:
        document.add_paragraph(note, style="List Bullet")
    causes = raw_causes(result, faults)  # the raw text of the causes listed above
    if causes:
        document.add_heading(sections[8] + w["appendix"], level=1)
        _table(document, [w["id"], w["device"], w["shown_cause"], w["raw_cause"]], causes, [1.6, 3.0, 3.4, 7.6],
               size=SMALL_FIVE)
    _paragraph(document, "")
    _paragraph(document, w["sign"])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
