"""A draft 运维工作月报 (monthly O&M report, one of the contract's required documents) as a Word
file made with python-docx: the summary, the score tables, online rates, faults, vulnerabilities,
daily work and deductions, with the charts as PNG drawn by ``compliance.png`` and a signature
line, ready to edit and sign."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table

from compliance.png import to_png
from compliance.reportdata import (
    Words,
    all_items,
    level_rows,
    levels_figure,
    listed,
    maintenance_note,
    maintenance_rows,
    notable_faults,
    pct,
    rate_figures,
    score_text,
    summary_rows,
    summary_sentence,
    unit_names,
    yuan,
)

FONT = "宋体"
FAULT_ROWS = 100  # a Word table of thousands of rows helps nobody; the xlsx has them all
ITEM_ROWS = 200
RED = RGBColor(0xB9, 0x1C, 0x1C)


def _font(style: Any, size: float | None = None) -> None:
    style.font.name = FONT
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    if size is not None:
        style.font.size = Pt(size)


def _table(document: Any, headers: list[str], rows: list[list[Any]], bad: set[tuple[int, int]] | None = None) -> Table:
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for index, header in enumerate(headers):
        cell = table.rows[0].cells[index]
        cell.text = ""
        run = cell.paragraphs[0].add_run(str(header))
        run.bold = True
    for r, values in enumerate(rows):
        cells = table.add_row().cells
        for c, value in enumerate(values):
            run = cells[c].paragraphs[0].add_run("—" if value is None or value == "" else str(value))
            if bad and (r, c) in bad:
                run.bold = True
                run.font.color.rgb = RED
    return table


def _truncated(document: Any, w: Words, shown: int, total: int) -> None:
    if total > shown:
        paragraph = document.add_paragraph(w["truncated"].format(shown=shown, total=total))
        paragraph.runs[0].font.size = Pt(9)


def _picture(document: Any, png: bytes, caption: str) -> None:
    document.add_picture(io.BytesIO(png), width=Cm(15.5))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph = document.add_paragraph(caption)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.runs[0].font.size = Pt(9)


def render_docx(result: dict[str, Any]) -> bytes:
    w = Words(result)
    names = unit_names(result)
    english = result.get("language") == "en"
    document = Document()
    _font(document.styles["Normal"], 10.5)
    for style in ("Title", "Heading 1", "Heading 2"):
        _font(document.styles[style])
    contract = result["contract"]
    period = result["period"]
    document.add_heading(w["title"], level=0)
    document.add_paragraph(f"{contract['name'] or contract['id']}　{period['label']}（{period['first']} ~ {period['last']}）")

    sections = ["一、", "二、", "三、", "四、", "五、", "六、", "七、", "八、"] if not english else [
        f"{n}. " for n in range(1, 9)]
    document.add_heading(sections[0] + w["summary"], level=1)
    document.add_paragraph(summary_sentence(result, w))
    if period["provisional"]:
        document.add_paragraph(w["provisional"])
    _table(document, [w["name"], w["value"]], [[label, text] for label, text, _n in summary_rows(result, w)])

    document.add_heading(sections[1] + w["parts"], level=1)
    _table(document, [w["part"], w["points"], w["value"], w["lost"]],
           [[p["name"], score_text(p["points"]), score_text(p["value"]), score_text(p["lost"])] for p in result["parts"]],
           {(r, 3) for r, p in enumerate(result["parts"]) if p["lost"] and p["lost"] > 0})
    if result["units"]:
        document.add_heading(w["units"], level=2)
        part_ids = [p["id"] for p in result["parts"]]
        _table(document, [w["unit"], w["score"], *[p["name"] for p in result["parts"]]],
               [[u["name"] or u["id"], score_text(u["score"]), *[score_text(u["parts"].get(p)) for p in part_ids]]
                for u in result["units"]])

    document.add_heading(sections[2] + w["online"], level=1)
    groups = result["online_rates"]
    _table(document, [w["group"], w["devices"], w["rate"], w["threshold"], w["met"], w["worst"], w["episodes"],
                      w["minutes_below"], w["maintenance_hours"]],
           [[g["name"], g["devices"], pct(g["rate"], 3), pct(g["threshold"], 1), w.flag(g["met"]),
             pct(g["worst_instant"]["rate"]) if g["worst_instant"] else None, g["breach_episodes"], g["minutes_below"],
             score_text(g["maintenance_hours"])]
            for g in groups], {(r, 4) for r, g in enumerate(groups) if g["met"] is False})
    document.add_paragraph(maintenance_note(result, w))
    windows = maintenance_rows(result)
    if windows:
        document.add_heading(w["maintenance_list"], level=2)
        _table(document, [w["maintenance_list"], w["unit"], w["start"], w["end"], w["hours"], w["devices"]],
               [[name, unit, start, end, score_text(hours), devices] for name, unit, start, end, hours, devices in windows])
    periods = [(g, p) for g in groups for p in g["important_periods"]]
    if periods:
        document.add_heading(w["important"], level=2)
        _table(document, [w["group"], w["important"], w["start"], w["end"], w["threshold"], w["rate"], w["met"]],
               [[g["name"], p["name"], p["first"], p["last"], pct(p["threshold"], 1), pct(p["rate"], 3),
                 w.flag(p["met"])] for g, p in periods], {(r, 6) for r, (_g, p) in enumerate(periods) if p["met"] is False})
    for _group, figure in rate_figures(result, w):
        _picture(document, to_png(figure), f"{figure.title}（{w['legend_rate']}：蓝线；{w['legend_threshold']}：红色虚线）"
                 if not english else f"{figure.title} (blue: {w['legend_rate']}; dashed red: {w['legend_threshold']})")

    document.add_heading(sections[3] + w["faults"], level=1)
    summary = result["faults"]["summary"]
    _table(document, [w["level"], w["total"], w["overdue"]],
           [[w["level_label"].format(level=level), count, overdue] for level, count, overdue in level_rows(result)])
    document.add_paragraph(f"{w['resolution_rate']}：{pct(summary['resolution_rate'], 1)}；{w['mean_response']}："
                           f"{summary['mean_response_minutes'] if summary['mean_response_minutes'] is not None else '—'}；"
                           f"{w['mean_resolution']}：{summary['mean_resolution_minutes'] if summary['mean_resolution_minutes'] is not None else '—'}")
    figure = levels_figure(result, w)
    _picture(document, to_png(figure), f"{figure.title}（{w['legend_faults']}：蓝色；{w['legend_overdue']}：橙色）"
             if not english else f"{figure.title} (blue: {w['legend_faults']}; orange: {w['legend_overdue']})")
    faults, total = listed(notable_faults(result), FAULT_ROWS)
    if faults:
        _table(document, [w["id"], w["level"], w["unit"], w["cause"], w["opened"], w["response_min"], w["resolution_min"],
                          w["overdue"]],
               [[f["id"], f["level"], names.get(f["unit"] or "", f["unit"]), f["cause"], f["opened"][:16].replace("T", " "),
                 f["response_minutes"], f["resolution_minutes"],
                 w.flag((f["response_overdue"] or f["resolution_overdue"]) and not f["waived"])] for f in faults],
               {(r, 7) for r, f in enumerate(faults) if (f["response_overdue"] or f["resolution_overdue"]) and not f["waived"]})
        _truncated(document, w, len(faults), total)

    document.add_heading(sections[4] + w["vulns"], level=1)
    vulns = result["vulns"]["items"]
    if vulns:
        _table(document, [w["id"], w["severity"], w["unit"], w["name"], w["found"], w["hours_open"], w["overdue"]],
               [[v["id"], v["severity"], names.get(v["unit"] or "", v["unit"]), v["name"], v["found"][:16].replace("T", " "),
                 v["hours_open"], w.flag(v["overdue"])] for v in vulns], {(r, 6) for r, v in enumerate(vulns) if v["overdue"]})
    else:
        document.add_paragraph(w["no_data"])

    document.add_heading(sections[5] + w["daily"], level=1)
    records = result["records"]
    kinds = sorted(records["counts"])
    if kinds:
        _table(document, [w["unit"], *[w.kind(k) for k in kinds]],
               [[names.get(unit, unit), *[counts.get(k, 0) for k in kinds]] for unit, counts in records["by_unit"].items()])
    else:
        document.add_paragraph(w["no_data"])

    document.add_heading(sections[6] + w["details"], level=1)
    items, total = listed([i for i in all_items(result) if i["points"]], ITEM_ROWS)
    if items:
        _table(document, [w["part"], w["unit"], w["points"], w["reason"]],
               [[i["part"], names.get(i["unit"] or "", i["unit"]), score_text(i["points"]), i["reason"]] for i in items])
        _truncated(document, w, len(items), total)
    else:
        document.add_paragraph(w["no_data"])
    if result["penalties"]:
        document.add_heading(w["penalties"], level=2)
        penalties, total = listed(result["penalties"], ITEM_ROWS)
        _table(document, [w["penalties"], w["amount"], w["reason"]],
               [[p["name"], yuan(p["amount"]), p["reason"]] for p in penalties])
        _truncated(document, w, len(penalties), total)

    document.add_heading(sections[7] + w["warnings"], level=1)
    for warning in result["warnings"] or [w["no_data"]]:
        document.add_paragraph(warning, style="List Bullet")
    document.add_paragraph("")
    document.add_paragraph(w["sign"])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
