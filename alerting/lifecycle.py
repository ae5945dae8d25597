"""What engineers do to faults: acknowledge, resolve by hand, note, close, open a work order.

Used by ``yunwei faults`` while the daemon runs: each operation is one store transaction on
the re-read row (see store.faults.FaultStore.update), queues its chat notice, and the daemon's
dispatcher sends it on its next tick.
"""

from __future__ import annotations

import uuid

from alerting.faultwriter import bucket
from alerting.levels import LevelPolicy
from core.errors import InputError
from core.model import State
from core.timefmt import to_iso_seconds as to_iso
from inventory.config import Inventory
from store.faults import Change, Fault, FaultStore, Notice


def _find(faults: FaultStore, ref: str, command: str) -> Fault:
    fault = faults.get(ref)
    if fault is None:
        raise InputError.single(f"yunwei faults {command}", f"no fault {ref!r} (see `yunwei faults list --all`)")
    return fault


def acknowledge(faults: FaultStore, ref: str, by: str, now: float, note: str | None = None) -> Fault:
    """Record that ``by`` took the fault on at ``now`` (the contract's response)."""
    fault = _find(faults, ref, "ack")
    problem: list[str] = []

    def mutate(f: Fault) -> Change | None:
        if f.acknowledged is not None:
            problem.append(f"{f.id} was already acknowledged by {f.acknowledged_by or '?'} at {to_iso(f.acknowledged, faults.timezone)}")
            return None
        if not f.active:
            when = f" at {to_iso(f.resolved, faults.timezone)}" if f.resolved is not None else ""
            problem.append(
                f"{f.id} is already {f.state}{when}: there is nothing to acknowledge (`yunwei faults note` keeps a remark)"
            )
            return None
        f.acknowledged, f.acknowledged_by = now, by
        if f.state == "open":
            f.state = "acknowledged"
        if note:
            f.note = _append(f.note, note)
            f.extra["ack_note"] = note  # posted with the 【已响应】 message
        notices = [Notice("ack", None, bucket(f), f.level)] if f.active and f.waived is None else []
        return Change(events=[("acknowledged", {"by": by, "note": note})], notices=notices, actor=by)

    updated = faults.update(fault.id, mutate, now)
    if updated is None:
        raise InputError.single("yunwei faults ack", problem[0] if problem else f"{fault.id} was not changed")
    return updated


def resolve(faults: FaultStore, ref: str, by: str, now: float, note: str | None = None) -> Fault:
    """Resolve by hand (function restored, or the fault was not real)."""
    fault = _find(faults, ref, "resolve")
    problem: list[str] = []

    def mutate(f: Fault) -> Change | None:
        if not f.active:
            problem.append(f"{f.id} is already {f.state}")
            return None
        f.state, f.resolved, f.resolved_how, f.resolved_by = "resolved", now, "manual", by
        if f.device is not None and f.source in ("down", "flapping") and _still_down(faults, f.device):
            # the message must not claim a recovery; the engine opens a new fault if it stays down
            f.extra["resolved_while_down"] = True
        if note:
            f.note = _append(f.note, note)
        notices = [Notice("resolved", None, bucket(f), f.level)] if f.waived is None else []
        return Change(events=[("resolved", {"how": "manual", "by": by, "note": note})], notices=notices, actor=by)

    updated = faults.update(fault.id, mutate, now)
    if updated is None:
        raise InputError.single("yunwei faults resolve", problem[0] if problem else f"{fault.id} was not changed")
    return updated


def _still_down(faults: FaultStore, device: str) -> bool:
    """The device's last recorded state is down (the daemon records every transition)."""
    last = faults.store.transitions(device=device)[-1:]
    return bool(last) and last[0].state == State.DOWN


def add_note(faults: FaultStore, ref: str, text: str, by: str, now: float, close: bool = False) -> Fault:
    """Add a note; with ``close`` the resolved fault is closed (the note is the closing remark)."""
    if not text.strip():
        raise InputError.single("yunwei faults note", "the note is empty: say what was done or found")
    fault = _find(faults, ref, "note")
    problem: list[str] = []

    def mutate(f: Fault) -> Change | None:
        events: list[tuple[str, dict[str, object]]] = [("note", {"text": text, "by": by})]
        if close:
            if f.state != "resolved":
                problem.append(f"{f.id} is {f.state}: only a resolved fault can be closed")
                return None
            f.state, f.closed = "closed", now
            events.append(("closed", {"by": by}))
        f.note = _append(f.note, text)
        return Change(events=events, actor=by)

    updated = faults.update(fault.id, mutate, now)
    if updated is None:
        raise InputError.single("yunwei faults note", problem[0] if problem else f"{fault.id} was not changed")
    return updated


def open_manual(
    faults: FaultStore,
    inventory: Inventory,
    level: int,
    cause: str,
    by: str,
    now: float,
    device: str | None = None,
    group: str | None = None,
    system: str | None = None,
    unit: str | None = None,
) -> Fault:
    """A work order (e.g. a level-3 user problem reported by phone), deadlines from the level table."""
    problems = []
    for value, known, what in (
        (device, inventory.devices, "device"),
        (group, inventory.groups, "group"),
        (system, inventory.systems, "system"),
        (unit, inventory.units, "unit"),
    ):
        if value is not None and value not in known:
            problems.append(f"unknown {what} {value!r}")
    if not (device or group or system or unit):
        problems.append("say what the work order is about: --device, --group, --system or --unit")
    if not cause.strip():
        problems.append("--cause is empty: say what is wrong, in the user's words")
    if level not in (1, 2, 3, 4):
        problems.append(f"--level {level}: levels are 1 (most severe) to 4")
    if problems:
        raise InputError.single("yunwei faults open", "; ".join(problems))
    config = inventory.config.alerting
    policy = LevelPolicy(config, inventory)
    if device is not None:
        resolved = inventory.devices[device]
        group = group or resolved.group
        system = system or resolved.system
        unit = unit or resolved.unit
    elif group is not None:
        context = policy.context("manual", group=group)
        system = system or context.system
        unit = unit or context.unit
    if system is not None and unit is None and inventory.systems[system].unit:
        unit = inventory.systems[system].unit
    respond_by, resolve_by = policy.deadlines(level, now, unit, system)
    scope = device or group or system or unit
    rkey = f"manual:{scope}:{cause}"
    change = Change(actor=by, events=[("work_order", {"by": by})])
    recurring_of = faults.recurrence_of(rkey, now, config.recurring_days, cause)
    if recurring_of is not None:
        change.events.append(("recurring", {"previous": recurring_of}))
    fault = Fault(
        id="",
        key=f"manual:{uuid.uuid4().hex[:12]}",
        rkey=rkey,
        source="manual",
        state="open",
        level=level,
        cause=cause,
        opened=now,
        respond_by=respond_by,
        resolve_by=resolve_by,
        device=device,
        group=group,
        system=system,
        unit=unit,
        recurring_of=recurring_of,
        extra={"opened_by": by},
    )
    change.notices.append(Notice("open", None, group or system or unit or "", level))
    opened = faults.open(fault, now, change)
    assert opened is not None  # the key is fresh
    return opened


def _append(existing: str | None, text: str) -> str:
    return f"{existing}\n{text}" if existing else text
