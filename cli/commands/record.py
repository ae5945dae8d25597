"""``yunwei record KIND ...``: what engineers do by hand, into the ledger.

Kinds: visit, inspection, backup, scan, satisfaction, document, complaint, praise, notice,
deduction, penalty, staff_shortfall, task_missed, ``other KIND`` for any other kind
(e.g. meeting_check), and ``vuln`` / ``fault`` (given again with the same --id, they are
updated: e.g. ``yunwei record vuln --id V-7 --fixed "2026-11-05 10:00"``).
Times are local (agent time zone) or ISO with an offset; --at defaults to now.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import yaml

from cli.main import add_config_argument, command_help
from compliance.events import RECORD_RESULTS
from core.errors import InputError
from inventory.lookup import did_you_mean

SIMPLE_KINDS: dict[str, str] = {
    "visit": "上门回访",
    "inspection": "巡检 (--result, --evidence)",
    "backup": "数据备份 (--result ok|missed|not_restorable, or --verify PATH: checked by reading it back)",
    "scan": "漏洞扫描",
    "satisfaction": "满意度调查 (--answers 满意,满意,基本满意,满意,一般 --accident no)",
    "document": "运维资料 (--document NAME, --fault ID for a fault's report)",
    "complaint": "投诉 (--points 1-10, --reason)",
    "praise": "表扬 (--reason, --part)",
    "notice": "通报批评 (--level city|province, --reason)",
    "deduction": "扣分 (--points, --reason, --part)",
    "penalty": "处罚 (--amount or --percent, --reason)",
    "staff_shortfall": "驻场人员不足 (--missing N)",
    "task_missed": "交办任务未完成 (--reason)",
}


def _common(parser: argparse.ArgumentParser, unit_required: bool = True) -> None:
    add_config_argument(parser)
    parser.add_argument("--unit", required=unit_required, help="unit id (* for every unit of a contract)")
    parser.add_argument("--system", help="system id")
    parser.add_argument("--device", help="device id")
    parser.add_argument("--id", help="a stable id (records without one are identified by their content)")
    parser.add_argument("--reason", help="why (deductions, penalties, complaints ...)")
    parser.add_argument("--note", help="free text")
    parser.add_argument("-f", "--field", action="append", default=[], metavar="KEY=VALUE",
                        help="any other field (value read as YAML: 3, true, text)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("record", help=command_help("record"))
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    for kind, help_text in SIMPLE_KINDS.items():
        sub = kinds.add_parser(kind, help=help_text)
        _common(sub)
        sub.add_argument("--at", help="when (default: now)")
        if kind in ("inspection", "backup", "scan"):
            sub.add_argument("--result", help=", ".join(RECORD_RESULTS[kind]))
            sub.add_argument("--evidence", help="path or URL of the evidence (report, screenshot)")
        if kind == "backup":
            sub.add_argument("--verify", metavar="PATH",
                             help="check the backup file (or a directory's newest file): recent, and reads back whole"
                                  " (tar, zip, gz, bz2, xz); sets --result and --evidence")
            sub.add_argument("--max-age-hours", type=float, default=26,
                             help="with --verify: an older backup is missed (default 26)")
        if kind == "satisfaction":
            sub.add_argument("--answers", help="answers per question, comma-separated: 满意,基本满意,一般,不满意")
            sub.add_argument("--points", type=float, help="the form's points instead of answers")
            sub.add_argument("--accident", choices=("yes", "no"), help="any O&M accident this month?")
        if kind == "document":
            sub.add_argument("--document", required=True, help="which required document (e.g. 运维工作月报)")
            sub.add_argument("--fault", help="the fault a fault analysis / major-event report is about")
            sub.add_argument("--file", help="where the document is kept")
        if kind in ("complaint", "praise", "deduction"):
            sub.add_argument("--points", type=float, required=kind == "deduction", help="points")
        if kind in ("praise", "deduction"):
            sub.add_argument("--part", help="the contract part it counts in")
        if kind == "notice":
            sub.add_argument("--level", required=True, choices=("city", "province", "national"))
        if kind == "penalty":
            sub.add_argument("--amount", type=float, help="yuan")
            sub.add_argument("--percent", type=float, help="percent of the period's fee")
        if kind == "staff_shortfall":
            sub.add_argument("--missing", type=int, default=1, help="engineers short (default 1)")
        sub.set_defaults(func=run_record)
    other = kinds.add_parser("other", help="any other kind of record, e.g. meeting_check")
    other.add_argument("other_kind", metavar="KIND")
    _common(other)
    other.add_argument("--at", help="when (default: now)")
    other.set_defaults(func=run_record)

    vuln = kinds.add_parser("vuln", help="a vulnerability found, fixed or mitigated (same --id updates it)")
    _common(vuln, unit_required=False)
    vuln.add_argument("--severity", choices=("critical", "high", "medium", "low"))
    vuln.add_argument("--found", help="when found (default: now, for a new one)")
    vuln.add_argument("--fixed", help="when fixed")
    vuln.add_argument("--mitigated", help="when mitigated")
    vuln.add_argument("--cve", help="CVE id")
    vuln.add_argument("--name", help="short name")
    vuln.set_defaults(func=run_vuln)

    fault = kinds.add_parser("fault", help="a fault / work order (same --id updates it)")
    _common(fault, unit_required=False)
    fault.add_argument("--level", type=int, choices=(1, 2, 3, 4))
    fault.add_argument("--opened", help="when it was opened (default: now, for a new one)")
    fault.add_argument("--acknowledged", help="when an engineer answered")
    fault.add_argument("--resolved", help="when the function was restored")
    fault.add_argument("--waived", choices=("force_majeure", "maintenance", "none"))
    fault.add_argument("--cause", help="cause")
    fault.set_defaults(func=run_fault)


def _fields(pairs: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError.single("command line", f"{pair!r} must look like key=value", field="--field")
        fields[key.strip()] = yaml.safe_load(value) if value else ""
    return fields


def _context(args: argparse.Namespace) -> tuple[Any, str]:
    from inventory.config import load_config

    inventory = load_config(args.config)
    return inventory, inventory.agent.timezone


def _when(value: str | None, tz: str, option: str, default: float | None = None) -> float | None:
    from core.timefmt import parse_when

    if value is None:
        return default
    try:
        return parse_when(value, tz)
    except ValueError as exc:
        raise InputError.single("command line", str(exc), field=option) from None


def _known(inventory: Any, what: str) -> dict[str, str]:
    """id → name of the units or systems a record may name: the config's and its contracts'."""
    from compliance.contract_file import load_contract
    from compliance.resolve import configured
    from inventory.lookup import merged, named_items

    sources = [named_items(inventory, what).items()]
    for _ref, file, inline in configured(inventory):
        contract = inline
        if contract is None and file:
            try:
                contract = load_contract(file)
            except InputError:
                continue
        if contract is not None:
            sources.append([(item.id, item.name) for item in getattr(contract, f"{what}s")])
    return merged(*sources)


def _resolve_refs(inventory: Any, args: argparse.Namespace, unit: str | None = None) -> None:
    """Replace --unit, --system and --device (ids or names) by ids; a typo is refused."""
    from inventory.lookup import named_items, resolve_ref

    unit = unit if unit is not None else args.unit
    if unit is not None and unit != "*":
        found = resolve_ref(_known(inventory, "unit"), "unit", unit, "--unit")
        args.unit = found if args.unit is not None else None
    if args.system is not None:
        args.system = resolve_ref(_known(inventory, "system"), "system", args.system, "--system")
    if args.device is not None:
        args.device = resolve_ref(named_items(inventory, "device"), "device", args.device, "--device")


def _save(inventory: Any, body: dict[str, Any], what: str, action: str = "record.add") -> int:
    """Store the record; a change (not a record given again unchanged) is written to the audit trail."""
    from cli import audited
    from compliance.records import event_from_fields, store_event
    from store.db import open_store

    event = event_from_fields(body, inventory.agent.id)
    with open_store(inventory.data_dir) as store:
        changed = store_event(store, event, body)
        if changed:
            audited.record(store, audited.operator(), action, event.uid, kind=body.get("kind") or body.get("type"))
    print(f"{what} {'recorded' if changed else 'unchanged (already recorded)'}: {event.uid}")
    return 0


def run_record(args: argparse.Namespace) -> int:
    from compliance.records import record_body

    inventory, tz = _context(args)
    _resolve_refs(inventory, args)
    kind = getattr(args, "other_kind", None) or args.kind
    if getattr(args, "result", None) is not None and args.result not in RECORD_RESULTS[kind]:
        raise InputError.single("command line", f"must be one of {', '.join(RECORD_RESULTS[kind])} (got {args.result!r})"
                                + did_you_mean(args.result, list(RECORD_RESULTS[kind])), field="--result")
    at = _when(args.at, tz, "--at", float(int(time.time())))
    assert at is not None
    fields: dict[str, Any] = {"id": args.id, "reason": args.reason, "note": args.note}
    for option in ("result", "evidence", "document", "fault", "file", "points", "part", "level", "amount", "percent",
                   "missing"):
        if getattr(args, option, None) is not None:
            fields[option] = getattr(args, option)
    if kind == "satisfaction":
        if args.answers:
            fields["answers"] = [a.strip() for a in args.answers.replace("，", ",").split(",") if a.strip()]
        if args.accident:
            fields["accident"] = args.accident == "yes"
    if getattr(args, "verify", None):
        fields.update(_verify(args, at, tz))
    fields.update(_fields(args.field))
    body = record_body(kind, args.unit, at, tz, args.system, args.device, fields)
    return _save(inventory, body, kind)


def _verify(args: argparse.Namespace, at: float, tz: str) -> dict[str, Any]:
    from pathlib import Path

    from compliance.backupcheck import verify_backup

    if args.result is not None or args.evidence is not None:
        raise InputError.single("command line", "--verify sets the result and evidence itself", field="--verify")
    if args.max_age_hours <= 0:
        raise InputError.single("command line", "must be more than 0", field="--max-age-hours")
    fields = verify_backup(Path(args.verify), at, args.max_age_hours, tz)
    print(f"backup {fields['evidence']}: {fields['result']}" + (f" ({fields['error']})" if "error" in fields else ""))
    return fields


def run_vuln(args: argparse.Namespace) -> int:
    from compliance.records import existing_body, merge_update
    from core.timefmt import to_iso
    from store.db import open_store

    inventory, tz = _context(args)
    if not args.id:
        raise InputError.single("command line", "a vulnerability needs --id (to update it later)", field="--id")
    with open_store(inventory.data_dir) as store:
        old = existing_body(store, f"vuln:{args.id}")
    _resolve_refs(inventory, args, args.unit or (old or {}).get("unit"))
    new: dict[str, Any] = {"type": "vuln", "id": args.id, "unit": args.unit, "system": args.system,
                           "severity": args.severity, "cve": args.cve, "name": args.name, "note": args.note}
    for option in ("found", "fixed", "mitigated"):
        value = _when(getattr(args, option), tz, f"--{option}")
        new[option] = to_iso(value, tz) if value is not None else None
    given = {k for k in ("unit", "system", "severity", "cve", "name", "note", "found", "fixed", "mitigated")
             if getattr(args, k) is not None}
    if old is None and new["found"] is None:
        new["found"] = to_iso(float(int(time.time())), tz)
    body = merge_update(old, {k: v for k, v in new.items() if v is not None or k in ("fixed", "mitigated")}, given)
    body.update(_fields(args.field))
    return _save(inventory, body, "vulnerability", "record.add" if old is None else "record.update")


def run_fault(args: argparse.Namespace) -> int:
    from compliance.records import existing_body, merge_update
    from core.timefmt import to_iso
    from store.db import open_store

    inventory, tz = _context(args)
    if not args.id:
        raise InputError.single("command line", "a fault needs --id (to update it later)", field="--id")
    with open_store(inventory.data_dir) as store:
        old = existing_body(store, f"fault:{args.id}")
    _resolve_refs(inventory, args)
    new: dict[str, Any] = {"type": "fault", "id": args.id, "level": args.level, "unit": args.unit,
                           "system": args.system, "device": args.device, "cause": args.cause, "note": args.note,
                           "waived": None if args.waived in (None, "none") else args.waived}
    for option in ("opened", "acknowledged", "resolved"):
        value = _when(getattr(args, option), tz, f"--{option}")
        new[option] = to_iso(value, tz) if value is not None else None
    given = {k for k in ("level", "unit", "system", "device", "cause", "note", "opened", "acknowledged", "resolved",
                         "waived") if getattr(args, k) is not None}
    if old is None:
        new["opened"] = new["opened"] or to_iso(float(int(time.time())), tz)
        body = {k: v for k, v in new.items() if v is not None or k in ("acknowledged", "resolved", "waived")}
    else:
        body = merge_update(old, new, given)
    body.update(_fields(args.field))
    return _save(inventory, body, "fault", "record.add" if old is None else "record.update")
