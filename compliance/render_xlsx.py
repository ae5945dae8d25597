"""The report as an Excel workbook (opens in Excel and WPS): sheets 汇总, 在线率, 故障, 漏洞,
日常工作, 扣分明细. Written in openpyxl's write-only mode so 10,000 device rows stay fast."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from compliance.reportdata import (
    Words,
    all_items,
    level_rows,
    maintenance_note,
    maintenance_rows,
    summary_rows,
    unit_names,
)

SHEETS = ("汇总", "在线率", "故障", "漏洞", "日常工作", "扣分明细")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEAD_FILL = PatternFill("solid", fgColor="DCE6F1")
BAD = Font(color="C00000", bold=True)
PERCENT = "0.00%"
WRAP = Alignment(vertical="top", wrap_text=True)


class Sheet:
    """Rows into a write-only sheet with a little styling."""

    def __init__(self, sheet: WriteOnlyWorksheet, widths: list[int]) -> None:
        self.sheet = sheet
        self.row = 0
        # a style is registered with the workbook once; each cell then copies its style array
        # (setting font/format per cell hashes the style objects: ~0.5 s over 20,000 cells)
        self.styles: dict[tuple[Any, ...], StyleArray] = {}
        for index, width in enumerate(widths):
            sheet.column_dimensions[chr(ord("A") + index)].width = width

    def cell(self, value: Any, font: Font | None = None, fmt: str | None = None, fill: PatternFill | None = None) -> Any:
        wrap = isinstance(value, str) and len(value) > 40
        key = (id(font), fmt, id(fill), wrap)
        style = self.styles.get(key)
        if style is None:
            proto = WriteOnlyCell(self.sheet)
            if font is not None:
                proto.font = font
            if fmt is not None:
                proto.number_format = fmt
            if fill is not None:
                proto.fill = fill
            if wrap:
                proto.alignment = WRAP
            style = self.styles[key] = proto._style
        return Cell(self.sheet, row=1, column=1, value=value, style_array=StyleArray(style))

    def append(self, values: list[Any], font: Font | None = None, formats: dict[int, str] | None = None,
               bad: set[int] | None = None) -> None:
        """A row; only cells that need a style become styled cells (styling is what costs time)."""
        cells: list[Any] = []
        for index, value in enumerate(values):
            fmt = (formats or {}).get(index) if isinstance(value, int | float) and not isinstance(value, bool) else None
            style = BAD if bad and index in bad else font
            if fmt is None and style is None and not (isinstance(value, str) and len(value) > 40):
                cells.append(value)
            else:
                cells.append(self.cell(value, style, fmt))
        self.sheet.append(cells)
        self.row += 1

    def title(self, text: str) -> None:
        self.sheet.append([self.cell(text, TITLE)])
        self.row += 1

    def header(self, values: list[str]) -> None:
        self.sheet.append([self.cell(v, BOLD, fill=HEAD_FILL) for v in values])
        self.row += 1

    def note(self, text: str) -> None:
        """A line of text that runs on over the empty cells to its right (not wrapped)."""
        self.sheet.append([text])
        self.row += 1

    def blank(self) -> None:
        self.sheet.append([])
        self.row += 1


def render_xlsx(result: dict[str, Any]) -> bytes:
    w = Words(result)
    book = Workbook(write_only=True)
    _summary(Sheet(book.create_sheet(SHEETS[0]), [28, 40, 14, 14, 14, 14, 14]), result, w)
    _online(Sheet(book.create_sheet(SHEETS[1]), [22, 26, 12, 12, 12, 26, 16, 14, 18, 16, 16]), result, w)
    _faults(Sheet(book.create_sheet(SHEETS[2]), [12, 8, 12, 18, 18, 26, 26, 26, 14, 14, 14, 14, 10, 12, 12]), result, w)
    _vulns(Sheet(book.create_sheet(SHEETS[3]), [12, 10, 12, 18, 20, 26, 26, 26, 12, 12, 10]), result, w)
    _daily(Sheet(book.create_sheet(SHEETS[4]), [14, 18, 18, 18, 26, 50]), result, w)
    _details(Sheet(book.create_sheet(SHEETS[5]), [18, 16, 10, 60, 14, 26, 20]), result, w)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _summary(s: Sheet, result: dict[str, Any], w: Words) -> None:
    s.title(f"{w['title']}：{result['contract']['name'] or result['contract']['id']} {result['period']['label']}")
    s.blank()
    money = {w["cut_base_fee"], w["cut_base_bond"], w["cut_amount"], w["penalty_amount"], w["total_amount"]}
    for label, text, number in summary_rows(result, w):
        fmt = "#,##0.00" if label in money else "0%" if label == w["cut"] else "0.00##"
        s.append([label, number if number is not None else text], formats={1: fmt})
    s.blank()
    s.header([w["table"], w["part"], w["points"], w["value"], w["lost"]])
    for part in result["parts"]:
        s.append([part["table"], part["name"], part["points"], part["value"], part["lost"]],
                 bad={4} if part["lost"] and part["lost"] > 0 else None)
    if result["units"]:
        s.blank()
        part_ids = [p["id"] for p in result["parts"]]
        s.header([w["unit"], w["name"], w["score"], *[p["name"] for p in result["parts"]]])
        for unit in result["units"]:
            s.append([unit["id"], unit["name"], unit["score"], *[unit["parts"].get(p) for p in part_ids]])
    if result["warnings"]:
        s.blank()
        s.header([w["warnings"]])
        for warning in result["warnings"]:
            s.append([warning])


def _online(s: Sheet, result: dict[str, Any], w: Words) -> None:
    s.title(w["online"])
    s.header([w["group"], w["name"], w["devices"], w["rate"], w["threshold"], w["met"], w["worst"], w["episodes"],
              w["minutes_below"], w["maintenance_hours"], w["unknown_hours"]])
    for g in result["online_rates"]:
        worst = g["worst_instant"]
        s.append([g["group"], g["name"], g["devices"], g["rate"], g["threshold"], w.flag(g["met"]),
                  worst["rate"] if worst else None, g["breach_episodes"], g["minutes_below"], g["maintenance_hours"],
                  g["unknown_hours"]],
                 formats={3: PERCENT, 4: PERCENT, 6: PERCENT}, bad={5} if g["met"] is False else None)
    s.note(maintenance_note(result, w))
    windows = maintenance_rows(result)
    if windows:
        s.blank()
        s.header([w["maintenance_list"], w["unit"], w["start"], w["end"], w["hours"], w["devices"]])
        for row in windows:
            s.append(row)
    periods = [(g, p) for g in result["online_rates"] for p in g["important_periods"]]
    if periods:
        s.blank()
        s.header([w["group"], w["important"], w["start"], w["end"], w["threshold"], w["rate"], w["met"]])
        for g, p in periods:
            s.append([g["name"], p["name"], p["first"], p["last"], p["threshold"], p["rate"], w.flag(p["met"])],
                     formats={4: PERCENT, 5: PERCENT}, bad={6} if p["met"] is False else None)
    episodes = [(g, e) for g in result["online_rates"] for e in g["episodes"]]
    if episodes:
        s.blank()
        s.header([w["group"], w["episode_list"], w["end"], w["minutes"], w["threshold"], w["worst"]])
        for g, e in episodes:
            s.append([g["name"], e["start"], e["end"], e["minutes"], e["threshold"], e["worst_rate"]],
                     formats={4: PERCENT, 5: PERCENT})
    groups = [g for g in result["online_rates"] if g["daily"]]
    if groups:
        s.blank()
        s.header([w["date"], *[g["name"] for g in groups]])
        first = s.row + 1
        for index, day in enumerate(groups[0]["daily"]):
            values = [day["date"], *[g["daily"][index]["rate"] if index < len(g["daily"]) else None for g in groups]]
            s.append(values, formats={i: PERCENT for i in range(1, len(values))})
        chart = LineChart()
        chart.title = w["daily_rates"]
        chart.y_axis.number_format = "0%"
        chart.height, chart.width = 8, 22
        data = Reference(s.sheet, min_col=2, max_col=1 + len(groups), min_row=first - 1, max_row=s.row)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(s.sheet, min_col=1, min_row=first, max_row=s.row))
        s.sheet.add_chart(chart, "M3")
    s.blank()
    s.header([w["device"], w["name"], w["group"], w["rate"], w["up_hours"], w["down_hours"], w["unknown_hours"],
              w["outages"], w["maintenance_hours"]])
    for d in result["devices"]:
        s.append([d["id"], d["name"], ",".join(d["groups"]), d["rate"], d["up_hours"], d["down_hours"],
                  d["unknown_hours"], d["outages"], d["maintenance_hours"] or None], formats={3: PERCENT})


def _faults(s: Sheet, result: dict[str, Any], w: Words) -> None:
    summary = result["faults"]["summary"]
    s.title(w["fault_summary"])
    s.header([w["level"], w["total"], w["overdue"]])
    for level, count, overdue in level_rows(result):
        s.append([level, count, overdue], bad={2} if overdue else None)
    s.append([w["resolution_rate"], summary["resolution_rate"]], formats={1: PERCENT},
             bad={1} if summary["resolution_rate_met"] is False else None)
    for key, label in (("mean_response_minutes", "mean_response"), ("worst_response_minutes", "worst_response"),
                       ("mean_resolution_minutes", "mean_resolution"), ("worst_resolution_minutes", "worst_resolution")):
        s.append([w[label], summary[key]])
    s.blank()
    s.header([w["id"], w["level"], w["unit"], w["system"], w["device"], w["cause"], w["opened"], w["resolved"],
              w["response_min"], w["response_limit"], w["resolution_min"], w["resolution_limit"], w["overdue"],
              w["waived"], w["recurrence"]])
    for f in result["faults"]["items"]:
        overdue = f["response_overdue"] or f["resolution_overdue"]
        s.append([f["id"], f["level"], f["unit"], f["system"], f["device"], f["cause"], f["opened"], f["resolved"],
                  f["response_minutes"], f["response_limit_minutes"], f["resolution_minutes"],
                  f["resolution_limit_minutes"], w.flag(overdue), f["waived"] or "", f["recurrence_of"] or ""],
                 bad={12} if overdue and not f["waived"] else None)


def _vulns(s: Sheet, result: dict[str, Any], w: Words) -> None:
    s.title(w["vulns"])
    s.header([w["id"], w["severity"], w["unit"], w["system"], w["name"], w["found"], w["fixed"], w["mitigated"],
              w["limit_hours"], w["hours_open"], w["overdue"]])
    for v in result["vulns"]["items"]:
        s.append([v["id"], v["severity"], v["unit"], v["system"], v["name"], v["found"], v["fixed"], v["mitigated"],
                  v["limit_hours"], v["hours_open"], w.flag(v["overdue"])], bad={10} if v["overdue"] else None)


def _daily(s: Sheet, result: dict[str, Any], w: Words) -> None:
    records = result["records"]
    names = unit_names(result)
    kinds = sorted(records["counts"])
    s.title(w["record_counts"])
    s.header([w["unit"], *[w.kind(k) for k in kinds]])
    for unit, counts in records["by_unit"].items():
        s.append([names.get(unit, unit), *[counts.get(k, 0) for k in kinds]])
    s.blank()
    s.header([w["kind"], w["unit"], w["system"], w["device"], w["at"], w["detail"]])
    for r in records["items"]:
        s.append([w.kind(r["kind"]), names.get(r["unit"], r["unit"]), r["system"], r["device"], r["at"], r["detail"]])


def _details(s: Sheet, result: dict[str, Any], w: Words) -> None:
    names = unit_names(result)
    s.title(w["details"])
    s.header([w["part"], w["unit"], w["points"], w["reason"], w["system"], w["at"], w["ref"]])
    for item in all_items(result):
        s.append([item["part"], names.get(item["unit"], item["unit"] or ""), item["points"], item["reason"],
                  item["system"], item["at"], item["ref"]], bad={2} if item["points"] and item["points"] < 0 else None)
    s.blank()
    s.header([w["penalties"], w["amount"], w["reason"], w["at"], w["ref"]])
    for p in result["penalties"]:
        s.append([p["name"], p["amount"], p["reason"], p["at"], p["ref"]])
