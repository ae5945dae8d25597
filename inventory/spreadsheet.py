"""The asset ledger (资产台账) as a spreadsheet: import into the config, export from it.

Headers may be Chinese or English (设备名称/name, IP地址/address, 设备类型/kind, 使用单位/unit,
运维事项/system, 分组/group, 上级设备/parent, 设备编号/id). Kinds may be written in Chinese
(交换机, 摄像机, 视频会议终端 ...). Import validates every row first and writes nothing when
any row is wrong; the config is rewritten with its comments kept (ruamel.yaml round-trip),
atomically, after the merged result has passed the same validation as ``yunwei check``.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import ipaddress
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import InputError, InputProblem
from inventory.config import Inventory, load_config
from inventory.models import KNOWN_KINDS

COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("设备编号", "编号", "资产编号", "id", "device_id"),
    "name": ("设备名称", "名称", "name", "device_name"),
    "address": ("ip地址", "ip", "管理ip", "address", "ip_address"),
    "kind": ("设备类型", "类型", "kind", "type"),
    "unit": ("使用单位", "单位", "unit"),
    "system": ("运维事项", "系统", "system"),
    "group": ("分组", "group"),
    "parent": ("上级设备", "parent"),
}
REQUIRED = ("name", "address", "kind")
EXPORT_HEADERS = {
    "id": "设备编号",
    "name": "设备名称",
    "address": "IP地址",
    "kind": "设备类型",
    "unit": "使用单位",
    "system": "运维事项",
    "group": "分组",
    "parent": "上级设备",
}
KIND_ALIASES: dict[str, str] = {
    "交换机": "switch",
    "核心交换机": "switch",
    "汇聚交换机": "switch",
    "接入交换机": "switch",
    "路由器": "router",
    "防火墙": "firewall",
    "专线": "line",
    "线路": "line",
    "摄像机": "camera",
    "摄像头": "camera",
    "监控点": "camera",
    "视频会议终端": "vc_terminal",
    "会议终端": "vc_terminal",
    "终端": "vc_terminal",
    "mcu": "mcu",
    "ups": "ups",
    "服务器": "server",
    "电脑": "pc",
    "计算机": "pc",
    "ip电话": "phone",
    "电话": "phone",
    "ip广播": "broadcast",
    "广播终端": "broadcast",
    "无线ap": "ap",
    "ap": "ap",
    "网站": "website",
    "平台": "platform",
}


@dataclass
class LedgerRow:
    source: str  # the file, with the sheet for a workbook: "台账.xlsx [sheet 资产台账]"
    where: str  # "sheet 资产台账 row 7" or "line 7"
    line: int | None
    values: dict[str, str]


@dataclass
class ImportSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    new_units: list[str] = field(default_factory=list)
    new_systems: list[str] = field(default_factory=list)
    new_groups: list[str] = field(default_factory=list)
    dry_run: bool = False

    def __str__(self) -> str:
        verb = "would add" if self.dry_run else "added"
        lines = [
            f"{verb} {len(self.added)} devices, {'would update' if self.dry_run else 'updated'} {len(self.updated)}, "
            f"{self.unchanged} unchanged"
        ]
        for label, items in (("units", self.new_units), ("systems", self.new_systems), ("groups", self.new_groups)):
            if items:
                lines.append(f"new {label}: {', '.join(items)}")
        return "\n".join(lines)


def read_rows(path: str | Path) -> list[LedgerRow]:
    """Read a CSV or XLSX asset ledger into rows keyed by canonical column names."""
    path = Path(path)
    if not path.exists():
        raise InputError.single(str(path), "file not found")
    suffix = path.suffix.lower()
    source = str(path)
    if suffix == ".csv":
        raw_rows = list(_csv_rows(path))
        label = "line"
    elif suffix in (".xlsx", ".xlsm"):
        raw_rows, sheet = _xlsx_rows(path)
        label, source = f"sheet {sheet} row", f"{path} [sheet {sheet}]"
    else:
        raise InputError.single(str(path), f"unsupported file type {suffix!r} (use .xlsx or .csv)")
    if not raw_rows:
        raise InputError.single(str(path), "the file is empty (expected a header row)")
    header_line, headers = raw_rows[0]
    mapping: dict[int, str] = {}
    for index, header in enumerate(headers):
        key = _canonical_header(header)
        if key is not None:
            mapping[index] = key
    missing = [c for c in REQUIRED if c not in mapping.values()]
    if missing:
        names = ", ".join(f"{EXPORT_HEADERS[c]}/{c}" for c in missing)
        raise InputError.single(source, f"missing column(s): {names}", line=header_line, field="header")
    rows = []
    for line, cells in raw_rows[1:]:
        values = {key: str(cells[i]).strip() if i < len(cells) and cells[i] is not None else "" for i, key in mapping.items()}
        if not any(values.values()):
            continue
        rows.append(LedgerRow(source=source, where=f"{label} {line}", line=line, values=values))
    return rows


def _canonical_header(header: Any) -> str | None:
    text = re.sub(r"[\s_（）()]", "", str(header or "")).lower()
    for key, aliases in COLUMNS.items():
        if text in {re.sub(r"[\s_]", "", a).lower() for a in aliases}:
            return key
    return None


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError.single(str(path), "cannot decode the file (save it as UTF-8 or GBK CSV)")
    yield from enumerate(csv.reader(io.StringIO(text)), start=1)


def _xlsx_rows(path: Path) -> tuple[list[tuple[int, list[Any]]], str]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputError.single(str(path), f"not a readable .xlsx workbook: {exc}") from None
    sheet = workbook["资产台账"] if "资产台账" in workbook.sheetnames else workbook.worksheets[0]
    rows = [(number, list(row)) for number, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
    workbook.close()
    return rows, sheet.title


def normalise_kind(value: str) -> str | None:
    text = value.strip().lower()
    if text in KNOWN_KINDS:
        return text
    return KIND_ALIASES.get(text)


def import_ledger(config_path: str | Path, ledger_path: str | Path, dry_run: bool = False) -> ImportSummary:
    """Merge the ledger's devices into the config file (matched by id, else by name)."""
    from ruamel.yaml import YAML

    config_path = Path(config_path)
    rows = read_rows(ledger_path)
    problems: list[InputProblem] = []
    file = str(ledger_path)
    yaml = YAML()
    yaml.preserve_quotes = True
    try:
        document = yaml.load(config_path.read_text(encoding="utf-8")) if config_path.exists() else None
    except Exception as exc:
        raise InputError.single(str(config_path), f"cannot read the config: {exc}") from None
    if document is None:
        document = {}
    for section in ("units", "systems", "groups", "devices"):
        if document.get(section) is None:
            document[section] = []

    def find(section: str, value: str) -> Any:
        for item in document[section]:
            if str(item.get("id")) == value or str(item.get("name", "")) == value:
                return item
        return None

    summary = ImportSummary(dry_run=dry_run)
    seen_ids: dict[str, str] = {}
    for row in rows:
        v = row.values
        name = v.get("name", "")
        if not name:
            problems.append(InputProblem(row.source, "device name is empty", row.line, "设备名称/name"))
            continue
        kind = normalise_kind(v.get("kind", ""))
        if kind is None:
            problems.append(InputProblem(row.source, f"unknown device kind {v.get('kind', '')!r}", row.line, "设备类型/kind"))
        address = v.get("address", "")
        if address:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                problems.append(InputProblem(row.source, f"{address!r} is not a valid IP address", row.line, "IP地址/address"))
        device_id = v.get("id") or _make_id(name, address)
        if device_id in seen_ids:
            problems.append(InputProblem(row.source, f"duplicate device {device_id!r} (also {seen_ids[device_id]})", row.line, "设备编号/id"))
        seen_ids[device_id] = row.where
        if problems:
            continue
        unit_id = _ensure(document, "units", v.get("unit", ""), summary.new_units, find)
        system_id = _ensure(document, "systems", v.get("system", ""), summary.new_systems, find, unit=unit_id)
        group_id = _ensure(document, "groups", v.get("group", ""), summary.new_groups, find, unit=unit_id, system=system_id)
        fields: dict[str, Any] = {"name": name, "kind": kind, "address": address or None}
        if unit_id:
            fields["unit"] = unit_id
        if system_id:
            fields["system"] = system_id
        if group_id:
            fields["group"] = group_id
        if v.get("parent"):
            fields["parent"] = v["parent"]
        existing = next((d for d in document["devices"] if str(d.get("id")) == device_id), None)
        if existing is None and not v.get("id"):
            existing = next((d for d in document["devices"] if str(d.get("name", "")) == name), None)
        if existing is None:
            document["devices"].append({"id": device_id, **{k: val for k, val in fields.items() if val is not None}})
            summary.added.append(device_id)
        else:
            changed = False
            for key, val in fields.items():
                if val is not None and existing.get(key) != val:
                    existing[key] = val
                    changed = True
            if changed:
                summary.updated.append(str(existing.get("id")))
            else:
                summary.unchanged += 1
    if problems:
        raise InputError(problems)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    text = buffer.getvalue()
    try:
        load_config(config_path, text)
    except InputError as exc:
        # Point at the spreadsheet row of the device behind the problem where we can.
        raise InputError(
            [InputProblem(file, f"after merging into {config_path}: {p.message}", None, p.field) for p in exc.problems]
        ) from None
    if not dry_run:
        _atomic_write(config_path, _write_text(text))
    return summary


def _ensure(
    document: Any, section: str, value: str, created: list[str], find: Any, **links: str | None
) -> str | None:
    if not value:
        return None
    found = find(section, value)
    if found is not None:
        return str(found.get("id"))
    item: dict[str, Any] = {"id": value, "name": value}
    item.update({k: v for k, v in links.items() if v and (section != "systems" or k == "unit")})
    document[section].append(item)
    created.append(value)
    return value


def _make_id(name: str, address: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_.\-\u4e00-\u9fff]+", "-", name).strip("-") or "device"
    if address:
        return f"{base}-{address}"
    return f"{base}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"


def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Have ``write(temporary_path)`` fill a file beside ``path``, then rename it into place, so
    ``path`` is never half-written. An existing file keeps its mode, owner and group (a config
    installed root:yunwei 0640 stays readable by the service); a new one gets 0666 less the umask.
    A path that cannot be written is an InputError naming it."""
    if path.is_dir():
        raise InputError.single(str(path), "is a directory: give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise InputError.single(str(path), f"cannot write: {exc.strerror or exc}") from None
    os.close(fd)
    try:
        write(tmp)
        if path.exists():
            old = path.stat()
            os.chmod(tmp, old.st_mode & 0o7777)
            with contextlib.suppress(PermissionError):  # only root may give a file away
                os.chown(tmp, old.st_uid, old.st_gid)
        else:
            umask = os.umask(0o022)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_text(text: str) -> Callable[[str], None]:
    def write(tmp: str) -> None:
        Path(tmp).write_text(text, encoding="utf-8")

    return write


def export_ledger(inventory: Inventory, output: str | Path) -> int:
    """Write the inventory's devices as an asset ledger (XLSX or CSV, Chinese headers)."""
    output = Path(output)
    units = {u.id: u.name or u.id for u in inventory.units.values()}
    systems = {s.id: s.name or s.id for s in inventory.systems.values()}
    groups = {g.id: g.name or g.id for g in inventory.groups.values()}
    keys = list(EXPORT_HEADERS)
    rows = []
    for device in inventory.devices.values():
        rows.append(
            [
                device.id,
                device.name,
                device.address or "",
                device.kind,
                units.get(device.unit or "", device.unit or ""),
                systems.get(device.system or "", device.system or ""),
                groups.get(device.group or "", device.group or ""),
                device.parent or "",
            ]
        )
    headers = [EXPORT_HEADERS[k] for k in keys]
    suffix = output.suffix.lower()
    if suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers)
        writer.writerows(rows)
        _atomic_write(output, _write_text("\ufeff" + buffer.getvalue()))
    elif suffix == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "资产台账"
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
        _atomic_write(output, workbook.save)
    else:
        raise InputError.single(str(output), f"unsupported output type {suffix!r} (use .xlsx or .csv)")
    return len(rows)
