"""Fault levels from the config's rules, and deadlines from the contract's level table."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from alerting.config import AlertingConfig, LevelRule, LevelSpec
from inventory.config import Inventory


@dataclass
class FaultContext:
    """What the level rules look at."""

    source: str
    device: str | None = None
    group: str | None = None
    system: str | None = None
    unit: str | None = None
    kind: str | None = None
    role: str | None = None
    metric: str | None = None
    affected: int = 0  # devices unreachable because of this fault (besides its own device)
    offline_ratio: float = 0.0  # the largest share of one group offline because of it
    groups: set[str] = field(default_factory=set)  # groups the fault touches


class LevelPolicy:
    """Level rules and deadline tables of the ``alerting:`` section."""

    def __init__(self, config: AlertingConfig, inventory: Inventory) -> None:
        self.config = config
        self.inventory = inventory
        self.sizes: dict[str, int] = {}
        for device in inventory.devices.values():
            if device.group:
                self.sizes[device.group] = self.sizes.get(device.group, 0) + 1

    def context(
        self, source: str, device: str | None = None, group: str | None = None, affected: Iterable[str] = (), metric: str | None = None
    ) -> FaultContext:
        """The context of a fault on ``device`` or ``group`` with ``affected`` devices behind it."""
        inventory = self.inventory
        resolved = inventory.devices.get(device) if device else None
        group_model = inventory.groups.get(group) if group else None
        context = FaultContext(source=source, device=device, group=group, metric=metric)
        if resolved is not None:
            context.group = context.group or resolved.group
            context.system, context.unit = resolved.system, resolved.unit
            context.kind, context.role = resolved.kind, resolved.role
        elif group_model is not None:
            context.system, context.unit, context.kind = group_model.system, group_model.unit, group_model.kind
            if context.system is None or context.unit is None:  # a ledger fault names its system or unit
                members = [d for d in inventory.devices.values() if d.group == group_model.id]
                context.system = context.system or _common([m.system for m in members])
                context.unit = context.unit or _common([m.unit for m in members])
        affected = [a for a in affected if a in inventory.devices]
        context.affected = len(affected)
        counts: dict[str, int] = {}
        offline_itself = resolved is not None and source in ("down", "flapping")  # a breached metric is not offline
        for member in ([device] if offline_itself else []) + affected:
            member_group = inventory.devices[member].group
            if member_group:
                counts[member_group] = counts.get(member_group, 0) + 1
        sizes = {g: self.sizes.get(g, 0) for g in counts}
        context.groups = set(counts) | ({group_model.id} if group_model is not None else set())
        if counts:
            context.offline_ratio = max(counts[g] / sizes[g] for g in counts if sizes[g])
        return context

    @staticmethod
    def matches(rule: LevelRule, context: FaultContext) -> bool:
        checks = (
            (rule.devices, context.device),
            (rule.kinds, context.kind),
            (rule.roles, context.role),
            (rule.units, context.unit),
            (rule.systems, context.system),
            (rule.sources, context.source),
            (rule.metrics, context.metric),
        )
        if any(wanted and value not in wanted for wanted, value in checks):
            return False
        if rule.groups and not (context.groups | {context.group}) & set(rule.groups):
            return False
        if rule.affected_min is not None and context.affected < rule.affected_min:
            return False
        return not (rule.offline_ratio_min is not None and context.offline_ratio < rule.offline_ratio_min - 1e-12)

    def level(self, context: FaultContext, fixed: int | None = None) -> int:
        """The most severe level among matching rules (``fixed`` when a threshold rule sets one)."""
        matched = [rule.level for rule in self.config.rules if self.matches(rule, context)]
        if fixed is not None:
            matched.append(fixed)
        return min(matched) if matched else self.config.default_level

    def table(self, unit: str | None, system: str | None) -> dict[int, LevelSpec]:
        """The deadline table of the contract covering this unit/system."""
        for profile in self.config.level_profiles:
            if (unit is not None and unit in profile.units) or (system is not None and system in profile.systems):
                return profile.levels
        return self.config.levels

    def deadlines(self, level: int, opened: float, unit: str | None, system: str | None) -> tuple[float, float]:
        """(respond_by, resolve_by) for a fault of ``level`` opened at ``opened``."""
        spec = self.table(unit, system)[level]
        return opened + spec.respond_minutes * 60, opened + spec.resolve_minutes * 60

    def name(self, level: int, unit: str | None, system: str | None, language: str) -> str:
        spec = self.table(unit, system).get(level)
        if spec is not None and spec.name:
            return spec.name
        if language == "zh":
            return f"{'一二三四'[level - 1]}级故障"
        return f"Level {level} fault"


def _common(values: list[str | None]) -> str | None:
    """The value most members share (None when none has one)."""
    counts: dict[str, int] = {}
    for value in values:
        if value:
            counts[value] = counts.get(value, 0) + 1
    return max(counts, key=lambda v: counts[v]) if counts else None
