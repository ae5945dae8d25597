"""What a contract covers, resolved against the inventory (when there is one) and the ledger:
its units and systems, the devices of each online-rate group, and where a device, fault or
vulnerability belongs."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from compliance.contract import Contract, ContractSystem, OnlineGroup
from compliance.events import Fault
from compliance.i18n import Texts
from inventory.models import ImportantPeriod


@dataclass
class GroupScope:
    id: str
    name: str
    members: list[str]
    threshold: float | None
    important_periods: list[ImportantPeriod]


@dataclass
class Scope:
    contract: Contract
    units: dict[str, str] = field(default_factory=dict)
    systems: dict[str, ContractSystem] = field(default_factory=dict)
    device_unit: dict[str, str | None] = field(default_factory=dict)
    device_system: dict[str, str | None] = field(default_factory=dict)
    device_names: dict[str, str] = field(default_factory=dict)
    groups: list[GroupScope] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def fault_system(self, fault: Fault) -> str | None:
        if fault.system:
            return fault.system
        return self.device_system.get(fault.device) if fault.device else None

    def fault_unit(self, fault: Fault) -> str | None:
        if fault.unit:
            return fault.unit
        if fault.device and self.device_unit.get(fault.device):
            return self.device_unit[fault.device]
        system = self.fault_system(fault)
        if system and system in self.systems:
            return self.systems[system].unit
        return None

    def systems_of(self, unit: str | None) -> list[ContractSystem]:
        """The unit's systems (every system when ``unit`` is None)."""
        return [s for s in self.systems.values() if unit is None or s.unit == unit]


def _patterns(patterns: list[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def build_scope(contract: Contract, inventory: object | None, ledger_devices: Iterable[str],
                texts: Texts | None = None) -> Scope:
    """Resolve the contract's scope. ``inventory`` is an ``inventory.config.Inventory`` or None
    (then group members come from the device patterns matched against the ledger)."""
    scope = Scope(contract=contract)
    inv_units = getattr(inventory, "units", {}) or {}
    inv_systems = getattr(inventory, "systems", {}) or {}
    inv_groups = getattr(inventory, "groups", {}) or {}
    inv_devices = getattr(inventory, "devices", {}) or {}
    scope.units = {u.id: u.name or u.id for u in contract.units} or {k: v.name or k for k, v in inv_units.items()}
    if contract.systems:
        scope.systems = {s.id: s for s in contract.systems}
    else:
        scope.systems = {k: ContractSystem(id=k, name=v.name, unit=v.unit) for k, v in inv_systems.items()}
    for device_id, device in inv_devices.items():
        scope.device_unit[device_id] = device.unit
        scope.device_system[device_id] = device.system
        scope.device_names[device_id] = device.label
    ledger_only = [d for d in ledger_devices if d not in inv_devices]
    for group in contract.online_rate.groups:
        scope.groups.append(_group_scope(group, inv_groups, inv_devices, ledger_only, scope.warnings, texts or Texts()))
    return scope


def _group_scope(group: OnlineGroup, inv_groups: dict[str, object], inv_devices: dict[str, object],
                 ledger_only: list[str], warnings: list[str], texts: Texts) -> GroupScope:
    members_spec = group.members
    pattern = _patterns(members_spec.devices)
    groups, systems, units, kinds = (set(members_spec.groups), set(members_spec.systems), set(members_spec.units),
                                     set(members_spec.kinds))
    members = []
    for device_id, device in inv_devices.items():
        if (getattr(device, "group", None) in groups or getattr(device, "system", None) in systems
                or getattr(device, "unit", None) in units or getattr(device, "kind", None) in kinds
                or (pattern is not None and pattern.match(device_id))):
            members.append(device_id)
    if pattern is not None:
        members.extend(d for d in ledger_only if pattern.match(d))
    members.sort()
    threshold = group.threshold
    important = group.important_periods
    if (threshold is None or important is None) and len(groups) == 1:
        target = getattr(inv_groups.get(next(iter(groups))), "online_rate", None)
        if target is not None:
            threshold = target.threshold if threshold is None else threshold
            important = list(target.important_periods) if important is None else important
    if not members:
        warnings.append(texts("warn_group_empty", group=group.id, groups="、".join(sorted(groups)) or "-",
                              patterns="、".join(members_spec.devices) or "-"))
    return GroupScope(group.id, group.name or group.id, members, threshold, list(important or []))
