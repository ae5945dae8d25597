"""The asset ledger (资产台账) as a spreadsheet: import into the config, export from it.

Reading (title rows, column synonyms, merged cells, bad cells) is ``inventory.ledger_read``;
device-type words are ``inventory.kinds``. Import matches each row to a device (an explicit
id column wins; else the same serial number, address or name), so re-importing an edited
workbook updates devices in place; new devices get a readable id from their system, group
or kind (``tianyan-007``) that does not change when their name or address does. Every row is
validated first and nothing is written when any row is wrong; the merged config passes the
same validation as ``yunwei check`` and is written atomically, in the file's own style.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.errors import InputError, InputProblem
from inventory.config import load_config
from inventory.files import atomic_write, write_text
from inventory.kinds import normalise_kind, suggest_kind
from inventory.ledger_read import ATTR_COLUMNS, LedgerRow, column_label, read_ledger
from inventory.models import ID_PATTERN
from inventory.yamledit import dump, flow_map, round_trip_yaml, styled_like


@dataclass
class ImportSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    new_units: list[str] = field(default_factory=list)
    new_systems: list[str] = field(default_factory=list)
    new_groups: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    diff: list[str] = field(default_factory=list)
    dry_run: bool = False

    language: str = "zh"

    def __str__(self) -> str:
        zh = self.language == "zh"
        lines = list(self.diff)
        added, updated = len(self.added), len(self.updated)
        if zh:
            lines.append(f"{'将' if self.dry_run else ''}新增 {added} 台设备, {'将' if self.dry_run else ''}更新 {updated} 台, "
                         f"{self.unchanged} 台不变")
        else:
            lines.append(f"{'would add' if self.dry_run else 'added'} {added} devices, "
                         f"{'would update' if self.dry_run else 'updated'} {updated}, {self.unchanged} unchanged")
        labels = (("新增单位", "new units"), ("新增系统", "new systems"), ("新增分组", "new groups"))
        for (label_zh, label_en), items in zip(labels, (self.new_units, self.new_systems, self.new_groups), strict=True):
            if items:
                lines.append(f"{label_zh if zh else label_en}: {', '.join(items)}")
        if self.extra_columns:
            label = "以下列作为设备属性保留" if zh else "columns kept as device attributes"
            lines.append(f"{label}: {', '.join(self.extra_columns)}")
        if self.dry_run:
            lines.append("试运行: 配置文件未修改" if zh else "dry run: the config was not changed")
        return "\n".join(lines)


def import_ledger(config_path: str | Path, ledger_path: str | Path, dry_run: bool = False) -> ImportSummary:
    """Merge the ledger's devices into the config file; see the module's doc string."""
    config_path = Path(config_path)
    sheet = read_ledger(ledger_path)
    try:
        original = config_path.read_text(encoding="utf-8") if config_path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.single(str(config_path), f"cannot read the config: {exc}") from None
    yaml = round_trip_yaml(original)
    try:
        document = yaml.load(original) if original.strip() else None
    except Exception as exc:
        raise InputError.single(str(config_path), f"cannot read the config: {exc}") from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise InputError.single(str(config_path), "the config must be a mapping (key: value) at the top level")
    for section in ("units", "systems", "groups", "devices"):
        if document.get(section) is None:
            document[section] = []

    merge = _Merge(document)
    kinds = _check_rows(sheet.rows)
    agent = document.get("agent") if isinstance(document.get("agent"), dict) else {}
    language = "en" if agent.get("language") == "en" else "zh"
    summary = ImportSummary(dry_run=dry_run, extra_columns=sheet.extra_columns, language=language)
    for row, kind in zip(sheet.rows, kinds, strict=True):
        merge.row(row, kind, summary)
    if merge.problems:
        raise InputError(merge.problems)
    text = dump(yaml, document)
    try:
        load_config(config_path, text)
    except InputError as exc:
        raise InputError(
            [InputProblem(sheet.source, f"after merging into {config_path}: {p.message}", None, p.field) for p in exc.problems]
        ) from None
    if not dry_run and text != original:
        atomic_write(config_path, write_text(text))
    return summary


def _check_rows(rows: list[LedgerRow]) -> list[str]:
    """Each row's kind; every row's problems at once, unknown device types listed once each."""
    problems: list[InputProblem] = []
    unknown: dict[str, list[LedgerRow]] = defaultdict(list)
    kinds: list[str] = []
    for row in rows:
        values = row.values
        if not values.get("name"):
            problems.append(InputProblem(row.source, "device name is empty", row.line, column_label("name")))
        word = values.get("kind", "")
        kind = normalise_kind(word)
        if not word:
            problems.append(InputProblem(row.source, "device type is empty", row.line, column_label("kind")))
        elif kind is None:
            unknown[word].append(row)
        kinds.append(kind or "other")
        address = values.get("address", "")
        if address:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                problems.append(InputProblem(row.source, f"{address!r} is not a valid IP address", row.line, column_label("address")))
        explicit = values.get("id", "")
        if explicit and not ID_PATTERN.match(explicit):
            problems.append(
                InputProblem(row.source, f"{explicit!r}: an id holds only letters, digits, 中文, '_', '.', '-'", row.line, column_label("id"))
            )
    for word, where in unknown.items():
        others = f" (also row{'s' if len(where) > 2 else ''} {', '.join(str(r.line) for r in where[1:])})" if len(where) > 1 else ""
        hint = suggest_kind(word)
        advice = f"did you mean {hint!r}?" if hint else "write a kind such as camera, switch, ups or a word such as 枪机, 交换机, NVR"
        problems.append(InputProblem(where[0].source, f"unknown device kind {word!r}{others}: {advice}", where[0].line, column_label("kind")))
    problems.sort(key=lambda p: p.line or 0)
    if problems:
        raise InputError(problems)
    return kinds


class _Merge:
    """The config document being merged into, with its lookups."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self.problems: list[InputProblem] = []
        self.claimed: dict[int, int] = {}  # id() of a device entry → the ledger row that matched it
        self.sample = document["devices"][-1] if document["devices"] else None

    def find(self, section: str, value: str) -> Any:
        wanted = value.strip()
        for item in self.document[section]:
            if str(item.get("id", "")) == wanted:
                return item
        for item in self.document[section]:
            if str(item.get("name", "")).strip() == wanted:
                return item
        return None

    def ensure(self, section: str, value: str, created: list[str], **links: str | None) -> str | None:
        if not value:
            return None
        found = self.find(section, value)
        if found is not None:
            return str(found.get("id"))
        item = {"id": _safe_id(value), "name": value, **{k: v for k, v in links.items() if v}}
        sample = self.document[section][-1] if self.document[section] else None
        self.document[section].append(styled_like(sample, item))
        created.append(value)
        return item["id"]

    def match(self, row: LedgerRow) -> tuple[Any, str]:
        """The existing device this row describes, and by what it matched."""
        devices = self.document["devices"]
        values = row.values
        if values.get("id"):
            return next((d for d in devices if str(d.get("id")) == values["id"]), None), "id"
        for key, read in (
            ("serial", lambda d: (d.get("attrs") or {}).get("serial")),
            ("address", lambda d: d.get("address")),
            ("name", lambda d: d.get("name")),
        ):
            value = values.get(key)
            if not value:
                continue
            found = [d for d in devices if read(d) is not None and str(read(d)).strip() == value and id(d) not in self.claimed]
            if len(found) == 1:
                return found[0], key
        return None, ""

    def new_id(self, prefix: str) -> str:
        prefix = _safe_id(prefix)
        taken = {str(d.get("id")) for d in self.document["devices"]}
        number = 1
        pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)$")
        for device_id in taken:
            found = pattern.match(device_id)
            if found:
                number = max(number, int(found.group(1)) + 1)
        return f"{prefix}-{number:03d}"

    def row(self, row: LedgerRow, kind: str, summary: ImportSummary) -> None:
        values = row.values
        existing, matched_by = self.match(row)
        if existing is not None and id(existing) in self.claimed:
            first = self.claimed[id(existing)]
            self.problems.append(
                InputProblem(row.source, f"describes the same device {existing.get('id')!r} as row {first}", row.line, column_label(matched_by))
            )
            return
        unit = self.ensure("units", values.get("unit", ""), summary.new_units)
        system = self.ensure("systems", values.get("system", ""), summary.new_systems, unit=unit)
        group = self.ensure("groups", values.get("group", ""), summary.new_groups, unit=unit, system=system)
        fields: dict[str, Any] = {"name": values["name"], "kind": kind}
        for key, value in (("address", values.get("address")), ("unit", unit), ("system", system), ("group", group)):
            if value:
                fields[key] = value
        if values.get("parent"):
            parent = self.find("devices", values["parent"])
            fields["parent"] = str(parent.get("id")) if parent is not None else values["parent"]
        attrs = {key: values[key] for key in ATTR_COLUMNS if values.get(key)}
        attrs.update({header: _plain(value) for header, value in row.extras.items()})
        if existing is None:
            device_id = values.get("id") or self.new_id(system or group or kind)
            entry = {"id": device_id, **fields, **({"attrs": attrs} if attrs else {})}
            self.document["devices"].append(styled_like(self.sample, entry))
            self.claimed[id(self.document["devices"][-1])] = row.line
            summary.added.append(device_id)
            summary.diff.append(f"+ {device_id}: {fields['name']} ({kind}{', ' + fields['address'] if 'address' in fields else ''})")
            return
        self.claimed[id(existing)] = row.line
        changes = []
        for key, value in fields.items():
            if existing.get(key) != value:
                changes.append(f"{key} {existing.get(key) if existing.get(key) is not None else '∅'} → {value}")
                existing[key] = value
        if attrs:
            if existing.get("attrs") is None:
                existing["attrs"] = flow_map({})
            current = existing["attrs"]
            for key, value in attrs.items():
                if str(current.get(key, "")) != str(value):
                    changes.append(f"attrs.{key} {current.get(key, '∅')} → {value}")
                    current[key] = value
        if changes:
            summary.updated.append(str(existing.get("id")))
            summary.diff.append(f"~ {existing.get('id')}: {'; '.join(changes)}")
        else:
            summary.unchanged += 1


def _safe_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-\u4e00-\u9fff]+", "-", text.strip()).strip("-") or "device"


def _plain(value: Any) -> Any:
    """A workbook cell as YAML holds it: dates as ISO text, numbers as numbers."""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
