"""Faults from pushed events (traps, syslog): the one entry point is ``FaultEngine.on_event``.

- An event whose ``metric`` a threshold rule watches (a UPS's ``on_battery``) opens or clears
  *that rule's* fault, the very fault the next poll would open: a trap and the poll saying
  the same thing make one fault, and the poll clears it when the samples are good again.
- Otherwise a "down" event (or one with a fixed level) opens an ``event`` fault keyed by
  device and subject (``event:core-sw:GE0/0/1``), and the matching "up" event resolves it.
- Events from unknown sources, events without meaning, and devices in a maintenance window
  open nothing (the event is still stored by the receiver); nor does a "down" event about the
  device itself (no subject): the receivers' confirming probes feed the tracker, whose
  transition opens the ordinary down fault, so a trap never makes a second fault for an outage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerting.thresholds import OPS, Crossing, limit_for
from core.events import Event

if TYPE_CHECKING:
    from alerting.engine import FaultEngine


def apply_event(engine: FaultEngine, event: Event, now: float) -> str:
    """Open or resolve the fault the event speaks for; returns what happened (for the event log)."""
    device = engine.inventory.devices.get(event.device) if event.device else None
    if device is None or (event.hint is None and event.level is None):
        return ""
    if device.id in engine.calendar.covering(now):
        return "maintenance"
    if not event.subject and event.metric is None and event.level is None:
        return ""  # about the device itself: its confirming probes and the tracker decide (the down fault)
    if event.metric is not None and event.value is not None:
        for rule in engine.thresholds.rules:
            probe = next((p for p in rule.probes if p in device.probes), "")
            if rule.metric != event.metric or not rule.selects(device, probe):
                continue
            limit = limit_for(rule, device)
            if limit is None:
                continue
            breach = OPS[rule.op](event.value, limit)
            key = (rule.name, device.id)
            if breach == (key in engine.thresholds.active):
                return "fault already open" if breach else ""
            if breach:
                engine.thresholds.active.add(key)
            else:
                engine.thresholds.active.discard(key)
            engine._threshold(Crossing(rule, device.id, breach, event.at, event.value, limit), now)
            return "fault opened" if breach else "fault resolved"
    key = event.fault_key
    active = {f.key: f for f in engine.faults.active()}
    if event.hint == "up":
        if key not in active:
            return ""
        engine._resolve(active[key], event.at, now, "event")
        return "fault resolved"
    if key in active:
        return "fault already open"
    extra = {"event": event.name, "kind": event.kind, "subject": event.subject, "source": event.source}
    fault = engine._open(
        "event", key, key, event.text or event.name, event.at, now,
        device=device.id, metric=event.metric, fixed_level=event.level, extra=extra,
    )
    return "fault opened" if fault is not None else ""
