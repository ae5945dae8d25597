"""The inventory: what is watched, where it belongs, how it is probed.

Defaults are inherited ``defaults`` → group → device and resolved once at load time
(``inventory.loader``), so the rest of the agent reads plain, complete ``Device`` objects.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.model import Sample
from inventory.kinds import KIND_DEFAULT_ONLINE, KNOWN_KINDS  # noqa: F401 (read from here too)
from inventory.online import parse_rule, threshold_on

ID_PATTERN = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]+$")

# A probe run less than once a month says nothing about the month's online rate.
MAX_INTERVAL = 31 * 86400


class Strict(BaseModel):
    """Base for config models: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DebounceSettings(Strict):
    down_after: int = Field(3, ge=1, description="consecutive failed samples before a device is down")
    up_after: int = Field(2, ge=1, description="consecutive good samples before a device is up again")
    retry_seconds: float = Field(
        10, ge=0, le=3600,
        description="a target whose state is changing is probed again after this, until confirmed (0: only at its interval)",
    )


class AgentSettings(Strict):
    id: str = "yunwei-1"
    data_dir: str = "./yunwei-data"
    timezone: str = "Asia/Shanghai"
    default_interval: float = Field(60.0, gt=0, le=MAX_INTERVAL)
    jitter: float = Field(0.1, ge=0, le=0.5, description="fraction of the interval rounds are spread over")
    retention_days: float = Field(14.0, gt=0, description="raw samples older than this are deleted")
    debounce: DebounceSettings = Field(default_factory=DebounceSettings)
    secrets_file: str | None = None
    language: str = Field("zh", pattern="^(zh|en)$")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class Unit(Strict):
    """使用单位: a customer organisation that uses the maintained systems."""

    id: str
    name: str = ""


class System(Strict):
    """运维事项: one maintained item of the contract (a platform, a line bundle, a camera system)."""

    id: str
    name: str = ""
    unit: str | None = None


class ImportantPeriod(Strict):
    """A date range (inclusive) with its own online-rate threshold, e.g. 98 % at important time nodes."""

    name: str = ""
    start: date
    end: date
    threshold: float = Field(gt=0, le=1)
    yearly: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> ImportantPeriod:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class OnlineRateTarget(Strict):
    """The contract's online-rate target for a group of devices."""

    threshold: float = Field(0.95, gt=0, le=1)
    warn_margin: float = Field(0.01, ge=0, lt=1, description="warn when the rate falls below threshold + margin")
    important_periods: list[ImportantPeriod] = Field(default_factory=list)

    def threshold_on(self, day: date) -> float:
        """The threshold in force on ``day`` (an important period's, when one covers it)."""
        return threshold_on(self.threshold, ((p.start, p.end, p.yearly, p.threshold) for p in self.important_periods), day)


class ProbeSpec(BaseModel):
    """One probe of a device: which collector, how often, and that collector's own options."""

    model_config = ConfigDict(extra="allow")

    collector: str | None = None
    interval: float | None = Field(None, gt=0, le=MAX_INTERVAL)

    def options(self) -> dict[str, Any]:
        """The collector-specific options (everything but ``collector`` and ``interval``)."""
        return dict(self.model_extra or {})


class Inheritable(Strict):
    """Fields that flow from ``defaults`` to groups to devices."""

    probes: dict[str, ProbeSpec | None] | None = None
    online: str | None = None
    tags: dict[str, str] | None = None
    interval: float | None = Field(None, gt=0, le=MAX_INTERVAL)

    @field_validator("online")
    @classmethod
    def _rule_parses(cls, value: str | None) -> str | None:
        if value is not None:
            parse_rule(value)
        return value


class Group(Inheritable):
    id: str
    name: str = ""
    unit: str | None = None
    system: str | None = None
    kind: str | None = None
    parent: str | None = None
    online_rate: OnlineRateTarget | None = None


class Device(Inheritable):
    id: str
    name: str = ""
    kind: str | None = None
    address: str | None = None
    unit: str | None = None
    system: str | None = None
    group: str | None = None
    parent: str | None = None
    role: str | None = None
    # Kind-specific attributes (a line's contracted bandwidth, a UPS's required runtime ...)
    # are validated by the collectors and rules that read them.
    attrs: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id_chars(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError("may hold only letters, digits, Chinese characters, '_', '.', '-'")
        return value

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return value
        value = value.strip()
        if not value:
            return None
        if _looks_like_ip(value):
            try:
                ipaddress.ip_address(value)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a valid IP address") from exc
        elif not _HOSTNAME.match(value):
            raise ValueError(f"{value!r} is neither an IP address nor a host name")
        return value


_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9-_]{1,63}\.?)+$")


def _looks_like_ip(value: str) -> bool:
    return bool(re.fullmatch(r"[\d.]+", value)) or ":" in value


class ResolvedProbe(BaseModel):
    """A device's probe after inheritance: collector name, interval and validated options."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    collector: str
    interval: float
    options: Any


class ResolvedDevice(BaseModel):
    """A device with every default applied: what collectors, alerting and reports read."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: str
    name: str
    kind: str
    address: str | None
    unit: str | None
    system: str | None
    group: str | None
    parent: str | None
    role: str | None
    online: str
    tags: dict[str, str]
    attrs: dict[str, Any]
    probes: dict[str, ResolvedProbe]

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True, slots=True)
class Target:
    """One device's probe in a round."""

    device: ResolvedDevice
    probe: ResolvedProbe

    @property
    def options(self) -> Any:
        return self.probe.options

    @property
    def address(self) -> str:
        """The probe's own ``address``/``host`` option when given, else the device's address."""
        override = getattr(self.options, "address", None) or getattr(self.options, "host", None)
        return override or self.device.address or ""

    def sample(self, ok: bool, **values: Any) -> Sample:
        """A Sample for this target (device id and probe name filled in)."""
        return Sample(device=self.device.id, probe=self.probe.name, ok=ok, **values)

    def failure(self, error: str, **values: Any) -> Sample:
        return self.sample(False, error=error, **values)
