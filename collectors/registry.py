"""Collectors by name. The one registry lives in ``inventory.plugins`` (the config loader needs
each collector's options model); this module fills it and hands out collector classes."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import TypeVar, cast

import collectors
from collectors.base import Collector
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
