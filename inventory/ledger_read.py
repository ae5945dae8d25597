"""Reading an asset ledger (资产台账) as customers keep it: CSV or XLSX into rows of named values.

The header row is found below any title rows (``XX市公安局视频监控资产台账``, a date line); every
column is recognised by its common names (所属单位/使用单位/单位 …); columns not recognised are
kept under their own header as device attributes. Merged cells (a unit merged over many rows)
give every row their value. Control characters and oversized cells are refused with the row
and column, so nothing unreadable reaches the config or a later export.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import InputError, InputProblem

# canonical key → the header words that mean it (compared without spaces, brackets or case)
COLUMNS: dict[str, tuple[str, ...]] = {
    "seq": ("序号", "no", "no.", "#", "seq"),
    "id": ("设备编号", "资产编号", "资产编码", "设备编码", "设备id", "编号", "id", "device_id", "asset_id"),
    "name": ("设备名称", "名称", "设备名", "资产名称", "点位名称", "监控点名称", "name", "device_name"),
    "address": ("ip地址", "ip", "管理ip", "设备ip", "ipv4地址", "ip地址v4", "管理地址", "address", "ip_address"),
    "kind": ("设备类型", "类型", "设备类别", "资产类型", "资产类别", "类别", "设备种类", "kind", "type", "device_type"),
    "unit": ("所属单位", "使用单位", "单位", "单位名称", "管理单位", "unit"),
    "system": ("所属系统", "运维事项", "系统", "系统名称", "所属项目", "项目名称", "system"),
    "group": ("分组", "所属分组", "设备分组", "group"),
    "parent": ("上级设备", "上联设备", "父设备", "parent"),
    "location": ("安装位置", "安装地点", "位置", "地点", "点位位置", "安装地址", "location"),
    "model": ("品牌型号", "型号", "设备型号", "规格型号", "model"),
    "brand": ("品牌", "厂商", "生产厂家", "厂家", "brand", "vendor"),
    "serial": ("序列号", "sn", "设备序列号", "出厂编号", "serial", "serial_number"),
    "notes": ("备注", "说明", "notes", "note", "remark", "remarks"),
}
# kept on the device as attrs under these keys; any other column under its header text
ATTR_COLUMNS = ("location", "model", "brand", "serial", "notes")
COLUMN_LABELS: dict[str, str] = {
    "seq": "序号",
    "id": "设备编号",
    "name": "设备名称",
    "kind": "设备类型",
    "address": "IP地址",
    "unit": "所属单位",
    "system": "所属系统",
    "group": "分组",
    "parent": "上级设备",
    "location": "安装位置",
    "model": "品牌型号",
    "brand": "品牌",
    "serial": "序列号",
    "notes": "备注",
}
REQUIRED = ("name", "address", "kind")
MAX_CELL_CHARS = 128 * 1024
HEADER_SEARCH_ROWS = 30  # a title block is a few rows; a header further down is not a header
# what openpyxl cannot write into a workbook, and what no name or address ever holds
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _key(text: str) -> str:
    return re.sub(r"[\s_（）()：:*]", "", text).lower()


_HEADER_WORDS = {_key(word): key for key, words in COLUMNS.items() for word in words}


@dataclass
class LedgerRow:
    source: str  # the file, with the sheet for a workbook: "台账.xlsx [sheet 资产台账]"
    line: int
    values: dict[str, str]  # canonical key → cell text ("" when empty)
    extras: dict[str, Any] = field(default_factory=dict)  # unrecognised header → cell value


@dataclass
class LedgerSheet:
    source: str
    header_line: int
    rows: list[LedgerRow]
    extra_columns: list[str]  # headers kept as device attributes as they are
    columns: dict[str, str]  # canonical key → the header as the file wrote it


def column_label(key: str) -> str:
    """``IP地址/address`` for messages; an extra column is named by its own header."""
    return f"{COLUMN_LABELS[key]}/{key}" if key in COLUMN_LABELS else key


def canonical_header(header: Any) -> str | None:
    return _HEADER_WORDS.get(_key(str(header or "")))


def read_ledger(path: str | Path) -> LedgerSheet:
    """Read a CSV or XLSX asset ledger. Raises InputError naming file, row and column."""
    path = Path(path)
    if not path.exists():
        raise InputError.single(str(path), "file not found")
    if path.is_dir():
        raise InputError.single(str(path), "is a directory, not a ledger file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw_rows, source = _csv_rows(path), str(path)
    elif suffix in (".xlsx", ".xlsm"):
        raw_rows, sheet = _xlsx_rows(path)
        source = f"{path} [sheet {sheet}]"
    else:
        raise InputError.single(str(path), f"unsupported file type {suffix!r} (use .xlsx or .csv)")
    if not raw_rows:
        raise InputError.single(source, "the file is empty (expected a header row)")
    header_at = _find_header(raw_rows)
    if header_at is None:
        first_line = raw_rows[0][0]
        names = ", ".join(column_label(c) for c in REQUIRED)
        raise InputError.single(source, f"no header row in the first {HEADER_SEARCH_ROWS} rows (columns {names})", first_line, "header")
    header_line, headers = raw_rows[header_at]
    mapping: dict[int, str] = {}
    extras: dict[int, str] = {}
    columns: dict[str, str] = {}
    problems: list[InputProblem] = []
    for index, header in enumerate(headers):
        text = str(header).strip() if header is not None else ""
        key = canonical_header(text)
        if key is not None and key not in columns:
            mapping[index], columns[key] = key, text
        elif key is not None:
            problems.append(InputProblem(source, f"column {text!r} repeats {columns[key]!r}", header_line, "header"))
        elif text:
            if _CONTROL.search(text):
                problems.append(InputProblem(source, "a header holds a control character", header_line, "header"))
            extras[index] = text
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        names = ", ".join(column_label(c) for c in missing)
        problems.append(InputProblem(source, f"missing column(s): {names}", header_line, "header"))
    if problems:
        raise InputError(problems)
    rows = []
    for line, cells in raw_rows[header_at + 1 :]:
        values = {key: _text(cells[i] if i < len(cells) else None, one_line=key != "notes") for i, key in mapping.items()}
        row_extras = {h: cells[i] for i, h in extras.items() if i < len(cells) and cells[i] not in (None, "")}
        if not any(values.values()) and not row_extras:
            continue
        for key in mapping.values():
            _check_cell(values[key], source, line, column_label(key), problems)
        for header, value in row_extras.items():
            if isinstance(value, str):
                row_extras[header] = value.strip()
                _check_cell(value, source, line, header, problems)
        rows.append(LedgerRow(source=source, line=line, values=values, extras=row_extras))
    if problems:
        raise InputError(problems)
    return LedgerSheet(source, header_line, rows, list(extras.values()), columns)


def _text(value: Any, one_line: bool = True) -> str:
    """A cell as text; names, addresses and kinds on one line (Excel's Alt+Enter becomes a space)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a 序号 or 编号 typed as a number: 7, not 7.0
    text = str(value).strip()
    return " ".join(text.split()) if one_line and ("\n" in text or "\r" in text or "\t" in text) else text


def _check_cell(value: str, source: str, line: int, column: str, problems: list[InputProblem]) -> None:
    bad = _CONTROL.search(value)
    if bad:
        problems.append(InputProblem(source, f"contains a control character (U+{ord(bad.group()):04X}); remove it", line, column))
    elif len(value) > MAX_CELL_CHARS:
        problems.append(InputProblem(source, f"cell longer than {MAX_CELL_CHARS // 1024} KB", line, column))


def _find_header(raw_rows: list[tuple[int, list[Any]]]) -> int | None:
    """The first row that names two or more known columns; title rows above it are skipped."""
    for position, (_line, cells) in enumerate(raw_rows[:HEADER_SEARCH_ROWS]):
        keys = {canonical_header(c) for c in cells if c not in (None, "")} - {None}
        if len(keys) >= 2:
            return position
    return None


def _csv_rows(path: Path) -> list[tuple[int, list[Any]]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError.single(str(path), f"cannot read: {exc.strerror or exc}") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError.single(str(path), "cannot decode the file (save it as UTF-8 or GBK CSV)")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[Any]]] = []
    try:
        for cells in reader:
            rows.append((reader.line_num, list(cells)))
    except csv.Error as exc:
        reason = f"a cell is longer than {MAX_CELL_CHARS // 1024} KB" if "field larger" in str(exc) else f"not valid CSV: {exc}"
        raise InputError.single(str(path), reason, reader.line_num) from None
    return rows


def _xlsx_rows(path: Path) -> tuple[list[tuple[int, list[Any]]], str]:
    from openpyxl import load_workbook

    try:
        # not read-only: merged ranges are only known to a fully loaded sheet
        workbook = load_workbook(path, data_only=True)
    except Exception as exc:
        raise InputError.single(str(path), f"not a readable .xlsx workbook: {exc}") from None
    sheet = workbook["资产台账"] if "资产台账" in workbook.sheetnames else workbook.worksheets[0]
    rows = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    for merged in sheet.merged_cells.ranges:
        value = sheet.cell(merged.min_row, merged.min_col).value
        for row in range(merged.min_row, merged.max_row + 1):
            for col in range(merged.min_col, merged.max_col + 1):
                if row - 1 < len(rows) and col - 1 < len(rows[row - 1]):
                    rows[row - 1][col - 1] = value
    workbook.close()
    return list(enumerate(rows, start=1)), sheet.title
