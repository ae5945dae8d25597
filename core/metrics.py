"""What a collector declares about the metrics it emits: name, unit, kind, help.

A collector lists its metrics in a ClassVar ``metrics`` (a tuple of ``MetricSpec``). The
declarations are the one truth that ``yunwei check`` validates threshold rules against and
that the exporters map families from: the Prometheus family name, its base unit (percent →
ratio, bits per second → bytes per second, minutes → seconds) and its help text all come from
here, never from a table of names in an exporter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["gauge", "counter"]

# unit as declared → (base unit suffix of the family name, factor to the base unit).
# Prometheus wants base units: seconds, bytes, ratios (https://prometheus.io/docs/practices/naming/).
BASE_UNITS: dict[str, tuple[str, float]] = {
    "seconds": ("seconds", 1.0),
    "minutes": ("seconds", 60.0),
    "milliseconds": ("seconds", 0.001),
    "percent": ("ratio", 0.01),
    "ratio": ("ratio", 1.0),
    "bits_per_second": ("bytes_per_second", 1 / 8),
    "bytes_per_second": ("bytes_per_second", 1.0),
    "bytes": ("bytes", 1.0),
    "bits": ("bytes", 1 / 8),
    "days": ("seconds", 86400.0),
    "volts": ("volts", 1.0),
    "celsius": ("celsius", 1.0),
    "unix_time": ("timestamp_seconds", 1.0),
    "": ("", 1.0),  # a count, a flag (1/0) or a code (HTTP status)
}

# how a name says its unit, and how the base unit is said: loss_percent → loss_ratio
NAME_SUFFIXES = {
    "percent": "_percent",
    "bits_per_second": "_bps",
    "minutes": "_minutes",
    "milliseconds": "_ms",
    "days": "_days",
    "bits": "_bits",
}

# metric name prefixes that carry an instance: "if.<name>.<metric>"
INSTANCE_PREFIXES = ("if",)


@dataclass(frozen=True)
class MetricSpec:
    """One metric a collector puts in ``Sample.metrics``.

    ``per_interface``: the metric is ``if.<interface>.<name>`` (SNMP interface tables).
    ``family`` and ``labels``: the exported family's stem (``yunwei_[if_]<family>_<base unit>``;
    ``""`` for an interface metric is ``yunwei_if_<base unit>``) and
    its constant labels, e.g. ``up_bps`` → family ``line`` with ``direction=up``; None leaves
    the metric to the generic ``yunwei_metric{name=...}`` family.
    """

    name: str
    unit: str = ""
    kind: Kind = "gauge"
    help: str = ""
    per_interface: bool = False
    family: str | None = None
    labels: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.unit not in BASE_UNITS:
            raise ValueError(f"metric {self.name!r}: unknown unit {self.unit!r} (known: {', '.join(sorted(BASE_UNITS))})")

    @property
    def key(self) -> str:
        """How the name is written in a sample (``if.*.in_bps`` for interface metrics)."""
        return f"if.*.{self.name}" if self.per_interface else self.name

    @property
    def base_unit(self) -> str:
        return BASE_UNITS[self.unit][0]

    @property
    def factor(self) -> float:
        """Multiply a value in ``unit`` by this to get it in the base unit."""
        return BASE_UNITS[self.unit][1]

    @property
    def base_name(self) -> str:
        """The name with the value in its base unit (``loss_percent`` → ``loss_ratio``,
        ``in_bps`` → ``in_bytes_per_second``); the name itself when it is already in a base unit
        or does not say its unit (then the value is not converted either: see ``base_factor``)."""
        suffix = NAME_SUFFIXES.get(self.unit)
        if suffix and self.name.endswith(suffix):
            return f"{self.name.removesuffix(suffix)}_{self.base_unit}"
        return self.name

    @property
    def base_factor(self) -> float:
        """The factor from the value to the value under ``base_name``."""
        return self.factor if self.base_name != self.name else 1.0

    @property
    def family_name(self) -> str | None:
        """The Prometheus family, ``yunwei_[if_]<family>[_<base unit>]``, or None (generic)."""
        if self.family is None:
            return None
        prefix = "yunwei_if" if self.per_interface else "yunwei"
        stem = f"{prefix}_{self.family}" if self.family else prefix
        suffix = self.base_unit
        return f"{stem}_{suffix}" if suffix and not stem.endswith(f"_{suffix}") else stem


def directional(
    pattern: str, unit: str, help: str, family: str, directions: tuple[str, ...], per_interface: bool = False
) -> tuple[MetricSpec, ...]:
    """One figure per direction (``{}_bps`` → ``in_bps``, ``out_bps``), exported as one family
    with a ``direction`` label."""
    return tuple(
        MetricSpec(
            pattern.format(direction), unit, help=help, per_interface=per_interface, family=family,
            labels=(("direction", direction),),
        )
        for direction in directions
    )


def split_instance_metric(name: str) -> tuple[str, str, str] | None:
    """``if.Gi0/1.in_bps`` → (prefix ``if``, instance ``Gi0/1``, metric ``in_bps``); else None.

    The instance may itself contain dots (sub-interfaces such as ``Gi0/1.100``)."""
    prefix, dot, rest = name.partition(".")
    if not dot or prefix not in INSTANCE_PREFIXES:
        return None
    instance, dot, metric = rest.rpartition(".")
    if not dot or not instance or not metric:
        return None
    return prefix, instance, metric


class MetricTable:
    """Declared metrics by the name they have in a sample: plain, or per interface."""

    def __init__(self, specs: Iterable[MetricSpec]) -> None:
        self.plain: dict[str, MetricSpec] = {}
        self.per_interface: dict[str, MetricSpec] = {}
        for spec in specs:
            table = self.per_interface if spec.per_interface else self.plain
            table.setdefault(spec.name, spec)

    def find(self, name: str) -> MetricSpec | None:
        """The declaration of a metric as it appears in ``Sample.metrics``."""
        found = self.plain.get(name)
        if found is None and "." in name:
            split = split_instance_metric(name)
            if split is not None:
                found = self.per_interface.get(split[2])
        return found

    def names(self) -> list[str]:
        """Every declared name, interface metrics as ``if.*.<name>``, sorted."""
        return sorted([*self.plain, *(f"if.*.{n}" for n in self.per_interface)])

    def undeclared(self, metrics: Mapping[str, object]) -> list[str]:
        return [name for name in metrics if self.find(name) is None]
