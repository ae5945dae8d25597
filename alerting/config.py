"""Alerting settings: the ``alerting:`` section of the config.

Everything has a default, so an empty section gives the municipal contract's four levels and
deadlines, dependency suppression, flap damping and storm grouping, and no chat channel (faults
are still recorded in the ledger). See docs/alerting.md and config.example.yaml.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from alerting.notifiers.dingtalk import DingTalkChannel
from alerting.notifiers.email import EmailChannel
from alerting.notifiers.feishu import FeishuChannel
from alerting.notifiers.webhook import WebhookChannel
from alerting.notifiers.wecom import WeComChannel
from inventory.models import Strict


def _listify(value: Any) -> Any:
    """Accept a scalar where a list is expected (``kinds: camera`` means ``[camera]``)."""
    if value is None:
        return []
    if isinstance(value, str | int | float):
        return [value]
    return value


StrList = Annotated[list[str], BeforeValidator(_listify)]
IntList = Annotated[list[int], BeforeValidator(_listify)]
Level = Annotated[int, Field(ge=1, le=4)]

SOURCES = ("down", "flapping", "threshold", "group", "manual", "event")
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

    @model_validator(mode="after")
    def _one_value(self) -> ThresholdRule:
        if (self.value is None) == (self.value_attr is None):
            raise ValueError("give exactly one of value: (a number) or value_attr: (a device attribute)")
        return self


_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _weekday(value: Any) -> int:
    if isinstance(value, int) and 1 <= value <= 7:
        return value - 1
    text = str(value).strip().lower()[:3]
    if text in _WEEKDAYS:
        return _WEEKDAYS[text]
    raise ValueError(f"{value!r} is not a weekday (mon..sun or 1..7, 1 = Monday)")


class WeeklyWindow(Strict):
    """Every week on ``days`` from ``start`` to ``end`` (local time; an end before the start crosses midnight)."""

    days: list[Any] = Field(default_factory=lambda: list(range(1, 8)), description="mon..sun or 1..7; default every day")
    start: str
    end: str

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[Any]) -> list[int]:
        return sorted({_weekday(v) for v in _listify(value)})

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: Any) -> str:
        if isinstance(value, int):  # YAML 1.1 reads 02:00 as sexagesimal 120
            value = f"{value // 60:02d}:{value % 60:02d}"
        if not _CLOCK.match(str(value)):
            raise ValueError(f"{value!r} is not a time of day HH:MM")
        return str(value)


class MaintenanceWindow(Strict):
    """Planned work: faults inside are recorded as maintenance, not alerted, not counted against SLA."""

    name: str
    devices: StrList = Field(default_factory=list)
    groups: StrList = Field(default_factory=list)
    systems: StrList = Field(default_factory=list)
    units: StrList = Field(default_factory=list)
    start: datetime | None = Field(None, description="one-off window (no offset: the agent's time zone)")
    end: datetime | None = None
    weekly: WeeklyWindow | None = None
    cron: str | None = Field(None, description="minute hour day-of-month month day-of-week, with duration_minutes")
    duration_minutes: float | None = Field(None, gt=0)

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            from alerting.maintenance import parse_cron

            parse_cron(value)
        return value

    @model_validator(mode="after")
    def _shape(self) -> MaintenanceWindow:
        if not (self.devices or self.groups or self.systems or self.units):
            raise ValueError("a maintenance window needs devices:, groups:, systems: or units:")
        kinds = sum([self.start is not None or self.end is not None, self.weekly is not None, self.cron is not None])
        if kinds != 1:
            raise ValueError("give exactly one of start:/end: (one-off), weekly: or cron: (+ duration_minutes)")
        if (self.start is None) != (self.end is None):
            raise ValueError("a one-off window needs both start: and end:")
        if self.start is not None and self.end is not None and _naive_key(self.end) <= _naive_key(self.start):
            raise ValueError("end is not after start")
        if self.cron is not None and self.duration_minutes is None:
            raise ValueError("cron: needs duration_minutes:")
        return self


def _naive_key(moment: datetime) -> float:
    return moment.timestamp() if moment.tzinfo else moment.replace(tzinfo=None).timestamp()


CHANNEL_TYPES = ("dingtalk", "wecom", "feishu", "webhook", "email")


def _needs_type(value: Any) -> Any:
    if isinstance(value, dict) and "type" not in value:
        raise ValueError(f"a channel needs type: ({', '.join(CHANNEL_TYPES)})")
    return value


Channel = Annotated[
    Annotated[DingTalkChannel | WeComChannel | FeishuChannel | WebhookChannel | EmailChannel, Field(discriminator="type")],
    BeforeValidator(_needs_type),
]


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
    """Fault rules, deadlines, maintenance, routing and notifier channels."""

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
    maintenance: list[MaintenanceWindow] = Field(default_factory=list)
    storm: StormSettings = Field(default_factory=StormSettings)
    channels: dict[str, Channel] = Field(default_factory=dict)
    routes: list[Route] = Field(default_factory=list)
    daily_summary: DailySummary = Field(default_factory=DailySummary)
    meeting_checks: bool = Field(True, description="post meeting readiness records when they appear")
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    tick_seconds: float = Field(5, gt=0, description="how often deadlines, windows and the queue are checked")

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
            ("maintenance", self.maintenance),
            ("level_profiles", self.level_profiles),
        ]
        problems: list[tuple[list[str | int], str]] = []
        for section, items in sections:
            for index, item in enumerate(items):
                for field_name, names in known.items():
                    for value in getattr(item, field_name, []) or []:
                        if value not in names:
                            problems.append(([section, index, field_name], f"{value!r} is not in the inventory"))
        return problems

