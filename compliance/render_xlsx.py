"""The report as an Excel workbook (opens in Excel, WPS and LibreOffice): sheets 汇总, 在线率,
设备在线率, 故障, 漏洞, 日常工作, 扣分明细. Every sheet is set up to print: A4 (landscape where wide),
fitted to the page width, its title and header rows repeated on every page, page numbers in the
footer. Names instead of ids, times to the minute, the same rounding as every other format.
Written in openpyxl's write-only mode so 10,000 device rows stay fast."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.chart import LineChart, Reference
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.line import LineProperties
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from compliance.causes import cause_text
from compliance.reportdata import (
    Names,
    Words,
    all_items,
    level_rows,
    maintenance_note,
    maintenance_rows,
    summary_rows,
)

SHEETS = ("汇总", "在线率", "设备在线率", "故障", "漏洞", "日常工作", "扣分明细")
SHEETS_EN = ("Summary", "Online rates", "Devices", "Faults", "Vulnerabilities", "Daily work", "Deductions")
MONEY = "#,##0.00"
SCORE = "0.00"
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEAD_FILL = PatternFill("solid", fgColor="DCE6F1")
BAD = Font(color="C00000", bold=True)
PERCENT = "0.00%"
WRAP = Alignment(vertical="top", wrap_text=True)


class Sheet:
    """Rows into a write-only sheet with a little styling."""

    def __init__(self, sheet: WriteOnlyWorksheet, widths: list[int], landscape: bool = True) -> None:
        self.sheet = sheet
        self.row = 0
        setup = sheet.page_setup
        setup.paperSize = "9"  # A4
        setup.orientation = "landscape" if landscape else "portrait"
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        setup.fitToWidth, setup.fitToHeight = 1, 0  # one page wide, as many pages long as it takes
        sheet.print_title_rows = "1:2"  # the title and the header row on every page
        sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
        sheet.print_options.horizontalCentered = True
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
    n = Names(result)
    names = SHEETS_EN if result.get("language") == "en" else SHEETS
    book = Workbook(write_only=True)
    _summary(Sheet(book.create_sheet(names[0]), [30, 44, 14, 14, 14, 14, 14], landscape=False), result, w)
    _online(Sheet(book.create_sheet(names[1]), [24, 17, 17, 12, 10, 14, 17, 10, 14, 16, 16]), result, w, n)
    _devices(Sheet(book.create_sheet(names[2]), [26, 18, 22, 12, 12, 12, 14, 10, 14]), result, w)
    _faults(Sheet(book.create_sheet(names[3]), [10, 6, 16, 24, 20, 18, 30, 17, 17, 12, 12, 12, 12, 8, 10, 10]),
            result, w, n)
    _vulns(Sheet(book.create_sheet(names[4]), [10, 8, 16, 24, 20, 17, 17, 17, 12, 12, 8]), result, w, n)
    _daily(Sheet(book.create_sheet(names[5]), [16, 16, 24, 20, 17, 60]), result, w, n)
    _details(Sheet(book.create_sheet(names[6]), [16, 16, 10, 70, 44, 24, 17]), result, w, n)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _summary(s: Sheet, result: dict[str, Any], w: Words) -> None:
    s.title(f"{w['title']}：{result['contract']['name'] or result['contract']['id']} {result['period']['label']}")
    s.header([w["item"], w["content"]])
    money = {w["cut_base_fee"], w["cut_base_bond"], w["cut_amount"], w["penalty_amount"], w["total_amount"]}
    for label, text, number in summary_rows(result, w):
        fmt = MONEY if label in money else "0%" if label == w["cut"] else SCORE
        s.append([label, number if number is not None else text], formats={1: fmt})
    s.blank()
    s.header([w["table"], w["part"], w["points"], w["value"], w["lost"]])
    tables = {t["id"]: t["name"] or ("" if len(result["tables"]) == 1 else t["id"]) for t in result["tables"]}
    for part in result["parts"]:
        s.append([tables.get(part["table"], part["table"]), part["name"], part["points"], part["value"], part["lost"]],
                 formats={2: SCORE, 3: SCORE, 4: SCORE}, bad={4} if part["lost"] and part["lost"] > 0 else None)
    if result["units"]:
        s.blank()
        part_ids = [p["id"] for p in result["parts"]]
        s.header([w["unit"], w["score"], *[p["name"] for p in result["parts"]]])
        for unit in result["units"]:
            s.append([unit["name"] or unit["id"], unit["score"], *[unit["parts"].get(p) for p in part_ids]],
                     formats={i: SCORE for i in range(1, len(part_ids) + 2)})
    _fault_summary(s, result, w)
    if result["warnings"]:
        s.blank()
        s.header([w["warnings"]])
        for warning in result["warnings"]:
            s.append([warning])


def _online(s: Sheet, result: dict[str, Any], w: Words, n: Names) -> None:
    s.title(w["online"])
    s.header([w["group"], w["devices"], w["rate"], w["threshold"], w["met"], w["worst"], w["worst_at"], w["episodes"],
              w["minutes_below"], w["maintenance_hours"], w["unknown_hours"]])
    for g in result["online_rates"]:
        worst = g["worst_instant"]
        s.append([g["name"], g["devices"], g["rate"], g["threshold"], w.flag(g["met"]), worst["rate"] if worst else None,
                  n.time(worst["at"]) if worst else None, g["breach_episodes"], g["minutes_below"], g["maintenance_hours"],
                  g["unknown_hours"]],
                 formats={2: PERCENT, 3: PERCENT, 5: PERCENT, 8: SCORE, 9: SCORE, 10: SCORE},
                 bad={4} if g["met"] is False else None)
    s.note(maintenance_note(result, w))
    windows = maintenance_rows(result)
    if windows:
        s.blank()
        s.header([w["maintenance_list"], w["unit"], w["start"], w["end"], w["hours"], w["devices"]])
        for row in windows:
            s.append(row, formats={4: SCORE})
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
            s.append([g["name"], n.time(e["start"]), n.time(e["end"]), e["minutes"], e["threshold"], e["worst_rate"]],
                     formats={3: SCORE, 4: PERCENT, 5: PERCENT})
    groups = [g for g in result["online_rates"] if any(d["rate"] is not None for d in g["daily"])]
    if groups:
        _daily_rates(s, groups, w)


def _daily_rates(s: Sheet, groups: list[dict[str, Any]], w: Words) -> None:
    """Each group's daily rate and its threshold in two columns, and one chart per group: the rate
    with markers, the threshold as a dashed red line, the y-axis from just below the lowest value."""
    s.blank()
    s.header([w["date"], *[f"{g['name']}·{label}" for g in groups for label in (w["legend_rate"], w["legend_threshold"])]])
    first = s.row + 1
    days = groups[0]["daily"]
    for index, day in enumerate(days):
        values: list[Any] = [day["date"]]
        for g in groups:
            entry = g["daily"][index] if index < len(g["daily"]) else {"rate": None, "threshold": None}
            values += [entry["rate"], entry["threshold"]]
        s.append(values, formats={i: PERCENT for i in range(1, len(values))})
    last = s.row
    for number, g in enumerate(groups):
        column = 2 + 2 * number
        chart = LineChart()
        chart.title = w["chart_rate"].format(name=g["name"])
        chart.height, chart.width = 7, 24
        chart.add_data(Reference(s.sheet, min_col=column, max_col=column + 1, min_row=first - 1, max_row=last),
                       titles_from_data=True)
        chart.set_categories(Reference(s.sheet, min_col=1, min_row=first, max_row=last))
        rate, threshold = chart.series
        rate.marker.symbol, rate.marker.size = "circle", 5
        rate.smooth = threshold.smooth = False
        rate.graphicalProperties.line.solidFill = "2563EB"
        threshold.graphicalProperties = GraphicalProperties(ln=LineProperties(solidFill="DC2626", prstDash="dash", w=19050))
        threshold.marker.symbol = "none"
        values = [v for d in g["daily"] for v in (d["rate"], d["threshold"]) if v is not None]
        low = min(values, default=0.95)
        chart.y_axis.scaling.min = max(0.0, round(low - max(1 - low, 0.01) * 0.3, 3))
        chart.y_axis.scaling.max = 1.0
        chart.y_axis.number_format = "0.0%" if low > 0.9 else "0%"
        chart.y_axis.delete = False
        chart.x_axis.delete = False
        chart.legend.position = "b"
        s.sheet.add_chart(chart, f"A{last + 3 + number * 15}")  # below the table: printed in its width


def _devices(s: Sheet, result: dict[str, Any], w: Words) -> None:
    s.title(w["device_list"])
    groups = {g["group"]: g["name"] for g in result["online_rates"]}
    s.header([w["name"], w["device"], w["group"], w["rate"], w["up_hours"], w["down_hours"], w["unknown_hours"],
              w["outages"], w["maintenance_hours"]])
    for d in result["devices"]:
        s.append([d["name"], d["id"], "、".join(groups.get(g, g) for g in d["groups"]), d["rate"], d["up_hours"],
                  d["down_hours"], d["unknown_hours"], d["outages"], d["maintenance_hours"]],
                 formats={3: PERCENT})  # hours are rounded in the result: no per-cell format (10,000 rows)


def _fault_summary(s: Sheet, result: dict[str, Any], w: Words) -> None:
    """Faults per level and the period's response and resolution figures (on the summary sheet,
    where its columns are wide enough)."""
    summary = result["faults"]["summary"]
    s.blank()
    s.header([w["fault_summary"], w["total"], w["overdue"]])
    for level, count, overdue in level_rows(result):
        s.append([w["level_label"].format(level=level), count, overdue], bad={2} if overdue else None)
    s.append([w["resolution_rate"], summary["resolution_rate"]], formats={1: PERCENT},
             bad={1} if summary["resolution_rate_met"] is False else None)
    for key, label in (("mean_response_minutes", "mean_response"), ("worst_response_minutes", "worst_response"),
                       ("mean_resolution_minutes", "mean_resolution"), ("worst_resolution_minutes", "worst_resolution")):
        s.append([w[label], summary[key]], formats={1: SCORE})


def _faults(s: Sheet, result: dict[str, Any], w: Words, n: Names) -> None:
    s.title(w["faults"])
    s.header([w["id"], w["level"], w["unit"], w["system"], w["device"], w["cause"], w["raw_cause"], w["opened"],
              w["resolved"], w["response_min"], w["response_limit"], w["resolution_min"], w["resolution_limit"],
              w["overdue"], w["waived"], w["recurrence"]])
    language = result.get("language", "zh")
    for f in result["faults"]["items"]:
        overdue = f["response_overdue"] or f["resolution_overdue"]
        cause, translated = cause_text(f["cause"], language)
        s.append([f["id"], f["level"], n.unit(f["unit"]), n.system(f["system"]), f.get("device_name") or f["device"],
                  cause, f["cause"] if translated else "", n.time(f["opened"]), n.time(f["resolved"]),
                  f["response_minutes"], f["response_limit_minutes"], f["resolution_minutes"],
                  f["resolution_limit_minutes"], w.flag(overdue), f["waived"] or "", f["recurrence_of"] or ""],
                 bad={13} if overdue and not f["waived"] else None)


def _vulns(s: Sheet, result: dict[str, Any], w: Words, n: Names) -> None:
    s.title(w["vulns"])
    s.header([w["id"], w["severity"], w["unit"], w["system"], w["name"], w["found"], w["fixed"], w["mitigated"],
              w["limit_hours"], w["hours_open"], w["overdue"]])
    for v in result["vulns"]["items"]:
        s.append([v["id"], w.severity(v["severity"]), n.unit(v["unit"]), n.system(v["system"]), v["name"],
                  n.time(v["found"]), n.time(v["fixed"]), n.time(v["mitigated"]), v["limit_hours"], v["hours_open"],
                  w.flag(v["overdue"])], formats={8: SCORE, 9: SCORE}, bad={10} if v["overdue"] else None)


def _daily(s: Sheet, result: dict[str, Any], w: Words, n: Names) -> None:
    records = result["records"]
    kinds = sorted(records["counts"])
    s.title(w["daily"])
    s.header([w["kind"], w["unit"], w["system"], w["device"], w["at"], w["detail"]])
    for r in records["items"]:
        s.append([w.kind(r["kind"]), n.unit(r["unit"]), n.system(r["system"]), r.get("device_name") or r["device"],
                  n.time(r["at"]), r["detail"]])
    s.blank()
    s.header([w["record_counts"], *[w.kind(k) for k in kinds]])
    for unit, counts in records["by_unit"].items():
        s.append([n.unit(unit) or "—", *[counts.get(k, 0) for k in kinds]])


def _details(s: Sheet, result: dict[str, Any], w: Words, n: Names) -> None:
    s.title(w["details"])
    s.header([w["part"], w["unit"], w["points"], w["reason"], w["system"], w["at"]])
    for item in all_items(result):
        s.append([item["part"], n.unit(item["unit"]), item["points"], item["reason"], n.system(item["system"]),
                  n.time(item["at"])], formats={2: SCORE}, bad={2} if item["points"] and item["points"] < 0 else None)
    s.blank()
    s.header([w["penalties"], w["amount"], w["reason"], w["evidence"], w["at"]])
    for p in result["penalties"]:
        s.append([p["name"], p["amount"], p["reason"], p.get("evidence") or "", n.time(p["at"])], formats={1: MONEY})
