"""``yunwei faults show|ack|resolve|note|open|outbox``: the actions that load the config in full."""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

from agent.status import format_table
from alerting import lifecycle
from alerting.levels import LevelPolicy
from alerting.messages import Composer
from cli import audited
from cli.commands.faults import _deadline, _when
from core.errors import InputError
from inventory.config import Inventory, load_config
from inventory.lookup import named_items, resolve_ref
from store.db import open_store
from store.faults import Fault, FaultStore, fault_dict, ledger_body
from store.outbox import OutboxStore


def _who(args: argparse.Namespace, inventory: Inventory) -> str:
    """The engineer who signs: --by, $YUNWEI_USER or alerting.engineer; never a login like root."""
    name = args.by or os.environ.get("YUNWEI_USER") or inventory.config.alerting.engineer
    if not name or not str(name).strip():
        raise InputError.single(
            "command line", "say who you are: --by 张工 (or set $YUNWEI_USER, or alerting.engineer in the config)", field="--by"
        )
    return str(name).strip()


def _open(args: argparse.Namespace) -> tuple[Inventory, FaultStore]:
    inventory = load_config(args.config)
    store = open_store(inventory.data_dir)
    return inventory, FaultStore(store, inventory.agent.id, inventory.agent.timezone)


def _policy(inventory: Inventory) -> LevelPolicy:
    return LevelPolicy(inventory.config.alerting, inventory)


def run_show(args: argparse.Namespace) -> int:
    inventory, faults = _open(args)
    fault = faults.get(args.fault)
    if fault is None:
        raise InputError.single("yunwei faults show", f"no fault {args.fault!r} (see `yunwei faults list`)")
    history = faults.history(fault.id)
    if args.json:
        print(json.dumps({"fault": fault_dict(fault), "ledger": ledger_body(fault, faults.timezone), "history": history}, ensure_ascii=False, indent=2))
        return 0
    zone = ZoneInfo(inventory.agent.timezone)
    composer = Composer(inventory, _policy(inventory))
    now = time.time()
    lines = [
        f"{fault.id}  {composer.level_name(fault)}  {fault.state}" + (f"  waived: {fault.waived}" if fault.waived else ""),
        f"  object:      {composer.where(fault)}",
        f"  cause:       {composer.cause(fault)}",
        f"  opened:      {_when(fault.opened, zone)}",
        f"  respond by:  {_deadline(fault, fault.respond_by, fault.acknowledged, now, zone)}"
        + (f"  (acknowledged {_when(fault.acknowledged, zone)} by {fault.acknowledged_by})" if fault.acknowledged else ""),
        f"  resolve by:  {_deadline(fault, fault.resolve_by, fault.resolved, now, zone)}"
        + (f"  (resolved {_when(fault.resolved, zone)}, {fault.resolved_how}{' by ' + fault.resolved_by if fault.resolved_by else ''})" if fault.resolved else ""),
    ]
    if fault.affected:
        lines.append(f"  affected:    {composer.count_phrase(fault.affected)}: {composer.names(fault.affected)}")
    if fault.recurring_of:
        lines.append(f"  recurring:   same object and cause as {fault.recurring_of}")
    if fault.absorbed_into:
        lines.append(f"  absorbed in: {fault.absorbed_into}")
    if fault.note:
        lines.append("  note:        " + fault.note.replace("\n", "\n               "))
    lines.append("  history:")
    for at, kind, actor, detail in history:
        extra = ", ".join(f"{k}={v}" for k, v in detail.items() if v not in (None, "") and not (k == "by" and v == actor))
        lines.append(f"    {_when(at, zone)}  {kind}{' by ' + actor if actor else ''}{'  ' + extra if extra else ''}")
    print("\n".join(lines))
    return 0


def _targets(args: argparse.Namespace, inventory: Inventory, faults: FaultStore, command: str) -> list[str]:
    """The faults named on the command line, and with --group every active one of that group."""
    refs = list(args.fault)
    if args.group is not None:
        group = resolve_ref(named_items(inventory, "group"), "group", args.group, "--group")
        refs += [f.id for f in faults.active() if f.group == group or (f.device and inventory.devices.get(f.device)
                 and inventory.devices[f.device].group == group)]
        if not refs:
            raise InputError.single(f"yunwei faults {command}", f"no active fault in group {group!r}")
    if not refs:
        raise InputError.single(f"yunwei faults {command}", "name the faults (6 7 8) or --group G")
    return list(dict.fromkeys(refs))


def _each(args: argparse.Namespace, command: str, act: Callable[[FaultStore, str, str], Fault], verb: str) -> int:
    """Each named fault in turn; one that is refused is reported (exit 2) and leaves no audit entry."""
    inventory, faults = _open(args)
    who = _who(args, inventory)
    problems = []
    for ref in _targets(args, inventory, faults, command):
        try:
            fault = act(faults, ref, who)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        audited.record(faults.store, who, f"fault.{command}", fault.id, note=args.note)
        print(f"{fault.id} {verb} {who}")
    if problems:
        raise InputError(problems)
    return 0


def run_ack(args: argparse.Namespace) -> int:
    return _each(args, "ack", lambda faults, ref, who: lifecycle.acknowledge(faults, ref, who, time.time(), args.note),
                 "acknowledged by")


def run_resolve(args: argparse.Namespace) -> int:
    return _each(args, "resolve", lambda faults, ref, who: lifecycle.resolve(faults, ref, who, time.time(), args.note),
                 "resolved by")


def run_note(args: argparse.Namespace) -> int:
    inventory, faults = _open(args)
    who = _who(args, inventory)
    fault = lifecycle.add_note(faults, args.fault, args.text, who, time.time(), close=args.close)
    audited.record(faults.store, who, "fault.note", fault.id, note=args.text, close=args.close or None)
    print(f"{fault.id} {'closed' if args.close else 'noted'}")
    return 0


def run_open(args: argparse.Namespace) -> int:
    inventory, faults = _open(args)
    for option in ("device", "group", "system", "unit"):
        if getattr(args, option) is not None:
            setattr(args, option, resolve_ref(named_items(inventory, option), option, getattr(args, option), f"--{option}"))
    who = _who(args, inventory)
    fault = lifecycle.open_manual(
        faults, inventory, args.level, args.cause, who, time.time(),
        device=args.device, group=args.group, system=args.system, unit=args.unit,
    )
    audited.record(faults.store, who, "fault.open", fault.id, level=fault.level, cause=fault.cause)
    zone = ZoneInfo(inventory.agent.timezone)
    print(f"{fault.id} opened: level {fault.level}, respond by {_when(fault.respond_by, zone)}, resolve by {_when(fault.resolve_by, zone)}")
    return 0


def run_outbox(args: argparse.Namespace) -> int:
    inventory, faults = _open(args)
    rows = OutboxStore(faults.store).rows(None if args.all else "pending", limit=1000)
    zone = ZoneInfo(inventory.agent.timezone)
    queued = faults.pending_notice_count()
    if queued:
        print(f"{queued} notice(s) queued for the daemon to render and send (`yunwei run` does it every tick)")
    for name, channel in inventory.config.alerting.channels.items():
        reason = channel.missing()
        if reason is not None:
            print(f"channel {name} is off: {reason}; messages for it are not sent (set its ${{env:...}} variable, then reload)")
    if not rows:
        print("outbox empty" if args.all else "nothing waiting to be sent")
        return 0
    table = []
    for row in rows:
        table.append(
            [str(row.id), row.channel, row.kind, row.thread[:28], row.state, str(row.attempts),
             _when(row.sent if row.sent else row.next_attempt, zone), (row.last_error or "")[:60]]
        )
    print(format_table(["id", "channel", "kind", "thread", "state", "tries", "sent / next try", "last error"], table))
    return 0
