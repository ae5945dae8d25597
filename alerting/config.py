"""Alerting settings: the ``alerting:`` section of the config.

Everything has a default, so an empty section gives the municipal contract's four levels and
deadlines, dependency suppression, flap damping and storm grouping, and no chat channel (faults
are still recorded in the ledger). See docs/alerting.md and config.example.yaml.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from alerting.notifiers import load_all as load_notifiers
from alerting.notifiers.base import NOTIFIERS
from collectors import registry
from inventory.maintenance import StrList, WeeklyWindow, listify
from inventory.models import ResolvedDevice, Strict
from inventory.plugins import rebind_field

IntList = Annotated[list[int], BeforeValidator(listify)]
Level = Annotated[int, Field(ge=1, le=4)]

SOURCES = ("down", "flapping", "threshold", "group", "manual", "degraded", "event")
MESSAGE_KINDS = (
    "open",
    "resolved",
    "ack",
    "escalated",
    "reminder",
    "overdue",
    "warn",
    "meeting",
    "summary",
    "startup",
)


class LevelSpec(Strict):
    """One fault level of a contract: response and resolution deadlines."""

    respond_minutes: float = Field(gt=0, description="acknowledged by an engineer within")
    resolve_minutes: float = Field(gt=0, description="function restored within")
    name: str | None = Field(None, description="shown instead of 一级故障/Level 1")


MUNICIPAL_LEVELS: dict[int, LevelSpec] = {
    1: LevelSpec(respond_minutes=10, resolve_minutes=120),
    2: LevelSpec(respond_minutes=10, resolve_minutes=240),
    3: LevelSpec(respond_minutes=20, resolve_minutes=1440),
    4: LevelSpec(respond_minutes=30, resolve_minutes=1440),
}


def _check_levels(levels: dict[int, LevelSpec]) -> dict[int, LevelSpec]:
    missing = [level for level in (1, 2, 3, 4) if level not in levels]
    extra = [level for level in levels if level not in (1, 2, 3, 4)]
    if extra:
        raise ValueError(f"levels are 1..4, not {', '.join(map(str, extra))}")
    if missing:
        raise ValueError(f"every level 1..4 needs deadlines; missing {', '.join(map(str, missing))}")
    return levels


class LevelProfile(Strict):
    """Deadlines of another contract, for the faults of its units/systems (first match wins)."""

    name: str = ""
    units: StrList = Field(default_factory=list)
    systems: StrList = Field(default_factory=list)
    levels: dict[int, LevelSpec]

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: dict[int, LevelSpec]) -> dict[int, LevelSpec]:
        return _check_levels(value)

    @model_validator(mode="after")
    def _scoped(self) -> LevelProfile:
        if not self.units and not self.systems:
            raise ValueError("a level profile needs units: or systems: (the default is alerting.levels)")
        return self


class LevelRule(Strict):
    """A fault gets the most severe (lowest) level of every rule that matches it."""

    level: Level
    devices: StrList = Field(default_factory=list)
    kinds: StrList = Field(default_factory=list)
    roles: StrList = Field(default_factory=list)
    units: StrList = Field(default_factory=list)
    systems: StrList = Field(default_factory=list)
    groups: StrList = Field(default_factory=list)
    sources: StrList = Field(default_factory=list, description=f"fault sources: {', '.join(SOURCES)}")
    metrics: StrList = Field(default_factory=list, description="for threshold faults: the metric")
    affected_min: int | None = Field(None, ge=0, description="blast radius: at least this many devices unreachable")
    offline_ratio_min: float | None = Field(
        None, gt=0, le=1, description="blast radius: at least this share of one group offline because of the fault"
    )

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in SOURCES]
        if unknown:
            raise ValueError(f"unknown source {unknown[0]!r} (known: {', '.join(SOURCES)})")
        return value


_OPS = (">", ">=", "<", "<=", "==", "!=")


class ThresholdRule(Strict):
    """A fault when a sample metric crosses a value for ``for_rounds`` consecutive samples.

    ``value`` is a number, or ``value_attr`` names a device attribute (``attrs:``) times ``scale``
    (a UPS's ``required_runtime_minutes``); a device without that attribute is not checked.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    metric: str
    op: Literal[">", ">=", "<", "<=", "==", "!="]
    value: float | None = None
    value_attr: str | None = None
    scale: float = 1.0
    for_rounds: int = Field(1, ge=1)
    clear_rounds: int | None = Field(None, ge=1, description="good samples before it clears (default for_rounds)")
    label: str = Field("", description="what the fault says, e.g. 丢包率过高")
    level: Level | None = Field(None, description="fixed level; default: the level rules")
    devices: StrList = Field(default_factory=list)
    kinds: StrList = Field(default_factory=list)
    roles: StrList = Field(default_factory=list)
    groups: StrList = Field(default_factory=list)
    systems: StrList = Field(default_factory=list)
    units: StrList = Field(default_factory=list)
    probes: StrList = Field(default_factory=list)

    def selects(self, device: ResolvedDevice, probe: str) -> bool:
        """True when the rule's filters take this device's probe (an empty filter takes all)."""
        return self.takes_device(device) and (not self.probes or probe in self.probes)

    def takes_device(self, device: ResolvedDevice) -> bool:
        return all(getattr(device, attr) in wanted for wanted, attr in self._device_filters())

    def _device_filters(self) -> list[tuple[list[str], str]]:
        filters = ((self.devices, "id"), (self.kinds, "kind"), (self.roles, "role"), (self.groups, "group"),
                   (self.systems, "system"), (self.units, "unit"))
        return [(wanted, attr) for wanted, attr in filters if wanted]

    def metric_problem(self, inventory: Any) -> str | None:
        """Why ``metric`` can never match: no collector of the probes the rule selects (all
        probes when it selects none) declares it. None when some does."""
        filters = [(frozenset(wanted), attr) for wanted, attr in self._device_filters()]
        taken = [d for d in inventory.devices.values() if all(getattr(d, attr) in wanted for wanted, attr in filters)]
        selected = [p for d in taken for n, p in d.probes.items() if not self.probes or n in self.probes]
        kinds = sorted({p.collector for p in selected}) if selected else None
        if registry.metric_table(kinds).find(self.metric) is not None:  # declared: the common case, cheap
            return None
        probes = selected or [p for d in inventory.devices.values() for p in d.probes.values()]
        table = registry.metric_table(kinds, [(p.collector, p.options) for p in probes])  # with SNMP oids:
        if table.find(self.metric) is not None:
            return None
        emitting = sorted(k for k in registry.names() if registry.get(k).metric_table().find(self.metric) is not None)
        where = f"the probes it selects ({', '.join(kinds)})" if kinds else "any collector"
        hint = f"; {', '.join(emitting)} emit it, which this rule does not select" if emitting and kinds else ""
        return f"{self.metric!r} is not a metric of {where}{hint}; valid: {', '.join(table.names())}"

    @model_validator(mode="after")
    def _one_value(self) -> ThresholdRule:
        if (self.value is None) == (self.value_attr is None):
            raise ValueError("give exactly one of value: (a number) or value_attr: (a device attribute)")
        return self


def _needs_type(value: Any) -> Any:
    if isinstance(value, dict) and "type" not in value:
        raise ValueError(f"a channel needs type: ({', '.join(NOTIFIERS.names())})")
    return value


def channel_type() -> Any:
    """A channel's model, picked by ``type:`` among the registered notifiers."""
    return Annotated[NOTIFIERS.union(lambda cls: cls.Options, "type"), BeforeValidator(_needs_type)]


load_notifiers()
Channel = channel_type()


class Route(Strict):
    """Which channels hear about what, and whom to @. Every matching route applies, in order,
    until one with ``stop: true`` matched."""

    name: str = ""
    units: StrList = Field(default_factory=list)
    systems: StrList = Field(default_factory=list)
    groups: StrList = Field(default_factory=list)
    kinds: StrList = Field(default_factory=list, description="device kinds")
    levels: IntList = Field(default_factory=list)
    events: StrList = Field(default_factory=list, description=f"message kinds: {', '.join(MESSAGE_KINDS)}")
    channels: StrList
    mention_mobiles: StrList = Field(default_factory=list)
    mention_user_ids: StrList = Field(default_factory=list, description="Feishu open_id / WeCom userid")
    mention_all: bool = False
    mention_on: StrList = Field(default_factory=lambda: ["open", "escalated", "overdue"])
    stop: bool = False

    @field_validator("events", "mention_on")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        unknown = [e for e in value if e not in MESSAGE_KINDS]
        if unknown:
            raise ValueError(f"unknown event {unknown[0]!r} (known: {', '.join(MESSAGE_KINDS)})")
        return value


class FlapSettings(Strict):
    count: int = Field(4, ge=2, description="this many outages ...")
    minutes: float = Field(30, gt=0, description="... within this many minutes make one 'flapping' fault")
    stable_minutes: float | None = Field(None, gt=0, description="up this long closes it (default: minutes)")


class StormSettings(Strict):
    window_seconds: float = Field(120, ge=0, description="at most one message per group and kind per window")
    immediate_levels: int = Field(2, ge=0, le=4, description="faults of this level or more severe are never held")
    list_max: int = Field(30, ge=1, description="devices listed by name in one message")


class GroupFaultSettings(Strict):
    enabled: bool = True
    offline_ratio: float = Field(0.2, gt=0, le=1, description="this share of a group offline → one group fault")
    min_devices: int = Field(3, ge=1, description="... and at least this many devices")


class DailySummary(Strict):
    at: str | None = Field(None, description="HH:MM local time; unset = no daily summary")
    channels: StrList = Field(default_factory=list, description="default: the routes for event 'summary'")

    @field_validator("at", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        if value is None:
            return value
        return WeeklyWindow._clock(value)


class OutboxSettings(Strict):
    backoff_seconds: float = Field(5, gt=0, description="first retry after this; doubles each attempt")
    backoff_max_seconds: float = Field(600, gt=0)
    poll_seconds: float = Field(1.0, gt=0)
    keep_days: float = Field(30, gt=0, description="sent messages are deleted after this")


class AlertingConfig(Strict):
    """Fault rules, deadlines, routing and notifier channels (maintenance windows are the
    inventory's: the top-level ``maintenance:`` section)."""

    enabled: bool = True
    levels: dict[int, LevelSpec] = Field(default_factory=lambda: dict(MUNICIPAL_LEVELS))
    level_profiles: list[LevelProfile] = Field(default_factory=list)
    default_level: Level = 3
    rules: list[LevelRule] = Field(default_factory=list)
    thresholds: list[ThresholdRule] = Field(default_factory=list)
    group_faults: GroupFaultSettings = Field(default_factory=GroupFaultSettings)
    hold_seconds: float = Field(30, ge=0, description="a device must stay down this long before its own fault opens")
    dependency_grace_seconds: float = Field(
        120, ge=0, description="after a parent recovers, children still down get faults after this"
    )
    flapping: FlapSettings = Field(default_factory=FlapSettings)
    reminders: list[float] = Field(default_factory=lambda: [0.5, 0.8], description="fractions of each deadline window")
    recurring_days: float = Field(7, ge=0, description="same device and cause again within this → recurring")
    engineer: str | None = Field(
        None, description="who signs `yunwei faults ack/resolve` on this host when neither --by nor $YUNWEI_USER says"
    )
    storm: StormSettings = Field(default_factory=StormSettings)
    channels: dict[str, Channel] = Field(default_factory=dict)  # rebuilt when a notifier registers late
    routes: list[Route] = Field(default_factory=list)
    daily_summary: DailySummary = Field(default_factory=DailySummary)
    meeting_checks: bool = Field(True, description="post meeting readiness records when they appear")
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    tick_seconds: float = Field(5, gt=0, description="how often deadlines, windows and the queue are checked")

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, value: Any) -> Any:
        if isinstance(value, dict) and "maintenance" in value:
            raise ValueError(
                "maintenance: moved out of alerting: to the top level of the config (windows hold with alerting disabled)"
            )
        return value

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: dict[int, LevelSpec]) -> dict[int, LevelSpec]:
        return _check_levels(value)

    @field_validator("reminders")
    @classmethod
    def _fractions(cls, value: list[float]) -> list[float]:
        if any(not 0 < f < 1 for f in value):
            raise ValueError("reminders are fractions of the deadline window, between 0 and 1 (e.g. 0.5, 0.8)")
        return sorted(set(value))

    @model_validator(mode="after")
    def _references(self) -> AlertingConfig:
        for index, route in enumerate(self.routes):
            for channel in route.channels:
                if channel not in self.channels:
                    known = ", ".join(sorted(self.channels)) or "none defined"
                    raise ValueError(f"routes[{index}]: unknown channel {channel!r} (channels: {known})")
        for channel in self.daily_summary.channels:
            if channel not in self.channels:
                raise ValueError(f"daily_summary: unknown channel {channel!r}")
        names = [t.name for t in self.thresholds]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"thresholds: duplicate name {duplicates[0]!r}")
        return self

    def check_references(self, inventory: Any) -> list[tuple[list[str | int], str]]:
        """(path, message) of every unit/system/group/device name the inventory lacks.

        Called by the config loader after the inventory is resolved, so ``yunwei check``
        refuses a route or window with a misspelt group instead of silently matching nothing."""
        known = {
            "units": set(inventory.units),
            "systems": set(inventory.systems),
            "groups": set(inventory.groups),
            "devices": set(inventory.devices),
        }
        sections: list[tuple[str, list[Any]]] = [
            ("routes", self.routes),
            ("rules", self.rules),
            ("thresholds", self.thresholds),
            ("level_profiles", self.level_profiles),
        ]
        problems: list[tuple[list[str | int], str]] = []
        for section, items in sections:
            for index, item in enumerate(items):
                for field_name, names in known.items():
                    for value in getattr(item, field_name, []) or []:
                        if value not in names:
                            problems.append(([section, index, field_name], f"{value!r} is not in the inventory"))
        for index, rule in enumerate(self.thresholds):
            problem = rule.metric_problem(inventory)
            if problem is not None:
                problems.append((["thresholds", index, "metric"], problem))
        named = [(index, metric) for index, level_rule in enumerate(self.rules) for metric in level_rule.metrics]
        if named:
            every = registry.metric_table(None, [(p.collector, p.options) for d in inventory.devices.values() for p in d.probes.values()])
            for index, metric in named:
                if every.find(metric) is None:
                    problems.append((["rules", index, "metrics"], f"{metric!r} is not a metric of any collector; valid: {', '.join(every.names())}"))
        return problems



# a notifier registered after this module was imported (a plugin, a test) joins the union
NOTIFIERS.on_late_register(lambda: rebind_field(AlertingConfig, "channels", dict[str, channel_type()]))  # type: ignore[misc]
