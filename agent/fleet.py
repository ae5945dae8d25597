"""The fleet's state now: the one definition every face reads (CLI, chat, exporters, console).

- A device's **observed** state (UP/DOWN/UNKNOWN) is its debounced online rule
  (``agent.transitions``); transitions only move forward in time.
- Its **shown** state is MAINTENANCE while a maintenance window covers it (entered and left at
  the window's edges), else the observed state. UNKNOWN means one thing: never seen since the
  store began (or the agent is not running: ``status`` says the states are stale).
- **Degraded**: the online rule holds but another probe is confirmed failing (snmpd dead on a
  switch that pings); shown and faulted, never counted against the online rate.
- **Group rate now** (``group_rates``): online / observed members, leaving out members not
  seen yet and members in maintenance, as the monthly calculation leaves out unknown and
  maintenance time.

The running agent keeps a ``FleetState``; a command beside the daemon builds the same view from
the store with ``states_now`` and the same ``group_rates``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from agent.fleet_now import (
    DeviceNow,
    GroupRate,
    StateMap,
    degraded_probes,
    group_rate,
    group_rates,
    states_now,
)
from agent.transitions import StatusTracker
from core.model import Sample, State, Transition
from core.timefmt import to_iso
from inventory.config import Inventory
from inventory.maintenance import MaintenanceCalendar, Occurrence

__all__ = [  # the definitions of agent.fleet_now are read from here too
    "DeviceNow", "FleetState", "GroupRate", "StateMap", "degraded_probes", "group_rate", "group_rates",
    "maintenance_records", "states_now",
]


def maintenance_records(occurrence: Occurrence, inventory: Inventory) -> list[tuple[str, dict[str, Any]]]:
    """The ledger records (uid, body) of one window occurrence, one per unit, so the monthly
    report leaves the window out of the online rate (compliance reads them)."""
    zone = inventory.agent.timezone
    by_unit: dict[str, list[str]] = {}
    for device_id in occurrence.devices:
        unit = inventory.devices[device_id].unit
        if unit:  # a ledger record belongs to a unit; devices without one are not scored anyway
            by_unit.setdefault(unit, []).append(device_id)
    records = []
    for unit, members in sorted(by_unit.items()):
        systems = sorted({s for s in (inventory.devices[d].system for d in members) if s})
        body: dict[str, Any] = {
            "type": "record",
            "kind": "maintenance",
            "unit": unit,
            "name": occurrence.name,
            "at": to_iso(occurrence.start, zone),
            "start": to_iso(occurrence.start, zone),
            "end": to_iso(occurrence.end, zone),
            "devices": sorted(members),
        }
        if len(systems) == 1:
            body["system"] = systems[0]
        records.append((f"{occurrence.uid}:{unit}", body))
    return records


class FleetState:
    """The running agent's fleet: debounced states, the latest sample of every probe, maintenance."""

    def __init__(
        self,
        inventory: Inventory,
        initial: Mapping[str, tuple[State, float]] | None = None,
        initial_probes: Mapping[tuple[str, str], tuple[bool, float]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.tracker = StatusTracker(inventory, initial=initial, initial_probes=initial_probes)
        self.latest: dict[tuple[str, str], Sample] = {}
        self.reload(inventory)

    def reload(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.tracker.reload(inventory)
        # the config's windows; the agent adds those made at run time (agent.windows.calendar)
        self.calendar = MaintenanceCalendar(inventory.config.maintenance, inventory)
        self.latest = {k: v for k, v in self.latest.items() if k[0] in inventory.devices and k[1] in inventory.devices[k[0]].probes}

    def observe(self, samples: Iterable[Sample]) -> list[Transition]:
        """Take a round's samples; returns the transitions they confirm (never dated backwards)."""
        samples = list(samples)
        self.observe_latest(samples)
        return self.tracker.observe(samples)

    def observe_latest(self, samples: Iterable[Sample]) -> None:
        """Keep the newest sample of every (device, probe) of the inventory (the store's, at start)."""
        devices = self.inventory.devices
        for sample in samples:
            device = devices.get(sample.device)
            if device is None or sample.probe not in device.probes:
                continue
            key = (sample.device, sample.probe)
            old = self.latest.get(key)
            if old is None or sample.ts >= old.ts:
                self.latest[key] = sample

    def observed_states(self) -> dict[str, tuple[State, float | None]]:
        return {device_id: (d.state, d.since) for device_id, d in self.tracker.devices.items()}

    def states(self, now: float | None = None) -> dict[str, tuple[State, float | None]]:
        """Every device's shown state now."""
        now = self.clock() if now is None else now
        return states_now(self.observed_states(), self.calendar.covering(now))

    def device(self, device_id: str, now: float | None = None) -> DeviceNow:
        now = self.clock() if now is None else now
        observed, since = self.tracker.state(device_id)
        occurrence = self.calendar.covering(now).get(device_id)
        degraded = degraded_probes(self.inventory.devices[device_id], observed, self.tracker.probe_ok(device_id))
        if occurrence is not None:
            return DeviceNow(device_id, State.MAINTENANCE, occurrence.start, observed, degraded, occurrence)
        return DeviceNow(device_id, observed, since, observed, degraded)

    def degraded(self) -> dict[str, tuple[str, ...]]:
        """Device → its failing probes, for every degraded device."""
        found = {}
        for device_id, device in self.inventory.devices.items():
            probes = degraded_probes(device, self.tracker.devices[device_id].state, self.tracker.probe_ok(device_id))
            if probes:
                found[device_id] = probes
        return found

    def group_rates(self, now: float | None = None) -> list[GroupRate]:
        now = self.clock() if now is None else now
        today = datetime.fromtimestamp(now, ZoneInfo(self.inventory.agent.timezone)).date()
        return group_rates(self.inventory, self.states(now), today)
