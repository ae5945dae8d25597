"""Exported names from the collectors' declarations (core.metrics), not from tables of names.

Prometheus: a declared metric with a ``family`` becomes ``yunwei_[if_]<family>_<base unit>``
(``in_bps`` → ``yunwei_if_bytes_per_second{direction="in"}``), its value converted to the base
unit and its help text the declaration's. InfluxDB: a declared metric is written as a field
named in its base unit (``loss_percent`` → ``loss_ratio`` × 0.01). Undeclared metrics (an SNMP
probe's own OIDs) keep their name and value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from collectors import registry
from core.metrics import MetricSpec

DEVICE_LABELS = ["agent", "unit", "system", "group", "device", "kind"]
PROBE_LABELS = [*DEVICE_LABELS, "probe"]
IF_LABELS = [*PROBE_LABELS, "interface"]


@dataclass(frozen=True)
class Family:
    """One Prometheus family of probe metrics."""

    name: str
    help: str
    labelnames: list[str]
    kind: str = "gauge"


@dataclass(frozen=True)
class FamilyRoute:
    """Where one declared metric goes: its family, the constant label values, the factor."""

    family: str
    labels: tuple[str, ...]
    factor: float


@dataclass(frozen=True)
class PrometheusMap:
    families: list[Family]  # declared families, sorted by name
    plain: dict[str, FamilyRoute]  # metric name → mapping
    per_interface: dict[str, FamilyRoute]  # <metric> of if.<interface>.<metric> → mapping


class DeclarationConflict(ValueError):
    pass


@cache
def prometheus_map() -> PrometheusMap:
    """The declared families and how each metric name maps to one (built once)."""
    table = registry.exported_metrics()
    families: dict[str, Family] = {}
    maps: tuple[dict[str, FamilyRoute], dict[str, FamilyRoute]] = ({}, {})
    for spec in (*table.plain.values(), *table.per_interface.values()):
        name = spec.family_name
        assert name is not None
        base = IF_LABELS if spec.per_interface else PROBE_LABELS
        family = Family(name, spec.help, [*base, *(k for k, _ in spec.labels)], spec.kind)
        known = families.setdefault(name, family)
        if known != family:
            raise DeclarationConflict(f"{spec.key} and another metric declare family {name} differently")
        maps[spec.per_interface][spec.name] = FamilyRoute(name, tuple(v for _, v in spec.labels), spec.factor)
    return PrometheusMap(sorted(families.values(), key=lambda f: f.name), *maps)


@cache
def _collector_specs(collector: str) -> Mapping[str, tuple[str, float]]:
    """A collector's metric name → (base-unit field name, factor); interface metrics by <metric>."""
    try:
        specs: tuple[MetricSpec, ...] = registry.get(collector).metrics
    except KeyError:
        return {}
    return {spec.key: (spec.base_name, spec.base_factor) for spec in specs}


def field_in_base_unit(collector: str | None, metric: str, per_interface: bool = False) -> tuple[str, float]:
    """The field name and factor of one metric of a collector's sample (``metric`` of
    ``if.<interface>.<metric>`` with ``per_interface``): the name in its base unit when declared,
    else the name as it is."""
    if collector is None:
        return metric, 1.0
    return _collector_specs(collector).get(f"if.*.{metric}" if per_interface else metric, (metric, 1.0))
