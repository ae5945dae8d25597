"""Collectors by name. The one registry lives in ``inventory.plugins`` (the config loader needs
each collector's options model); this module fills it and hands out collector classes."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from functools import cache
from typing import TypeVar, cast

from pydantic import BaseModel

import collectors
from collectors.base import Collector
from core.metrics import MetricTable
from inventory.plugins import PROBE_KINDS, DuplicateNameError, register_probe_kind

C = TypeVar("C", bound=type[Collector])

DuplicateCollectorError = DuplicateNameError


def register(cls: C) -> C:
    """Class decorator: make a collector known under its ``name``; duplicates are refused."""
    return register_probe_kind(cls)


@cache
def load_all() -> None:
    """Import every module of the collectors package so that each registers itself (the
    ``collectors`` entry point of ``yunwei.plugins``)."""
    for module in pkgutil.iter_modules(collectors.__path__):
        if not module.name.startswith("_") and module.name not in ("base", "registry"):
            importlib.import_module(f"collectors.{module.name}")


def get(name: str) -> type[Collector]:
    load_all()
    return cast(type[Collector], PROBE_KINDS[name])


def names() -> list[str]:
    load_all()
    return sorted(PROBE_KINDS)



def metric_table(kinds: Iterable[str] | None = None, probes: Iterable[tuple[str, BaseModel]] = ()) -> MetricTable:
    """The metrics the given collectors (default: all) declare, plus those named by the options
    of the given probes, as (collector name, options)."""
    load_all()
    specs = [spec for kind in (sorted(PROBE_KINDS) if kinds is None else kinds) for spec in get(kind).metrics]
    for kind, options in probes:
        specs.extend(get(kind).option_metrics(options))
    return MetricTable(specs)


@cache
def exported_metrics() -> MetricTable:
    """Every declared metric with an exported family, for the exporters. One spec per name: the
    conformance test makes sure that collectors sharing a name declare it alike."""
    table = metric_table()
    return MetricTable(s for s in (*table.plain.values(), *table.per_interface.values()) if s.family is not None)
