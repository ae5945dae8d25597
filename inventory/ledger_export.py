"""Writing the inventory as an asset ledger (资产台账) a customer recognises.

序号, Chinese headers and kind names (摄像机, not camera), units and systems by name, every
device attribute (安装位置, 品牌型号, 序列号, 备注 and the customer's own columns) in a column
of its own; in a workbook a styled header row, frozen and filtered, and columns wide enough
for their text. The file imports back into the same config without a change.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path
from typing import Any

from core.errors import InputError
from inventory.config import Inventory
from inventory.files import atomic_write, write_text
from inventory.kinds import KIND_LABELS
from inventory.ledger_read import COLUMN_LABELS

STANDARD = ("seq", "id", "name", "kind", "address", "unit", "system", "group", "parent", "location", "model", "serial", "notes")
MAX_WIDTH = 50


def ledger_table(inventory: Inventory) -> tuple[list[str], list[list[Any]]]:
    """The header row and the rows of the ledger, one device a row."""
    units = {u.id: u.name or u.id for u in inventory.units.values()}
    systems = {s.id: s.name or s.id for s in inventory.systems.values()}
    groups = {g.id: g.name or g.id for g in inventory.groups.values()}
    attr_keys: list[str] = []
    for device in inventory.devices.values():
        for key, value in device.attrs.items():
            if key not in STANDARD and key not in attr_keys and _scalar(value):
                attr_keys.append(key)
    rows = []
    for number, device in enumerate(inventory.devices.values(), start=1):
        known = {
            "seq": number,
            "id": device.id,
            "name": device.name,
            "kind": KIND_LABELS.get(device.kind, device.kind),
            "address": device.address or "",
            "unit": units.get(device.unit or "", device.unit or ""),
            "system": systems.get(device.system or "", device.system or ""),
            "group": groups.get(device.group or "", device.group or ""),
            "parent": device.parent or "",
        }
        attrs = device.attrs
        row = [known[key] if key in known else _cell(attrs.get(key)) for key in STANDARD]
        row += [_cell(attrs.get(key)) for key in attr_keys]
        rows.append(row)
    headers = [COLUMN_LABELS[key] for key in STANDARD] + [COLUMN_LABELS.get(key, key) for key in attr_keys]
    return headers, rows


def export_ledger(inventory: Inventory, output: str | Path) -> int:
    """Write the inventory's devices as an XLSX or CSV asset ledger; the number of devices."""
    output = Path(output)
    headers, rows = ledger_table(inventory)
    suffix = output.suffix.lower()
    if suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers)
        writer.writerows(rows)
        atomic_write(output, write_text("\ufeff" + buffer.getvalue()))  # the BOM makes Excel read UTF-8
    elif suffix == ".xlsx":
        atomic_write(output, _workbook(headers, rows).save)
    else:
        raise InputError.single(str(output), f"unsupported output type {suffix!r} (use .xlsx or .csv)")
    return len(rows)


def _workbook(headers: list[str], rows: list[list[Any]]) -> Any:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "资产台账"
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    thin = Side(style="thin", color="808080")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
    for index, header in enumerate(headers, start=1):
        widest = max([_display_width(header)] + [_display_width(row[index - 1]) for row in rows])
        sheet.column_dimensions[get_column_letter(index)].width = min(MAX_WIDTH, widest + 2)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    return workbook


def _display_width(value: Any) -> int:
    """Columns a value takes on screen: a Chinese character is two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value if value is not None else ""))


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _cell(value: Any) -> Any:
    return value if _scalar(value) else ""
