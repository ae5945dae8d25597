"""The one place collectors are registered by name. Duplicate names are refused."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TypeVar

from collectors.base import Collector

_COLLECTORS: dict[str, type[Collector]] = {}
_loaded = False
C = TypeVar("C", bound=type[Collector])


class DuplicateCollectorError(Exception):
    pass


def register(cls: C) -> C:
    """Class decorator: make a collector known under its ``name``."""
    name = getattr(cls, "name", None)
    if not name:
        raise ValueError(f"{cls.__qualname__} has no name")
    existing = _COLLECTORS.get(name)
    if existing is not None and existing is not cls:
        raise DuplicateCollectorError(
            f"collector name {name!r} is taken by {existing.__module__}.{existing.__qualname__}"
        )
    _COLLECTORS[name] = cls
    return cls


def load_all() -> None:
    """Import every module of the collectors package so that each registers itself."""
    global _loaded
    if _loaded:
        return
    import collectors

    for module in pkgutil.iter_modules(collectors.__path__):
        if not module.name.startswith("_") and module.name not in ("base", "registry"):
            importlib.import_module(f"collectors.{module.name}")
    _loaded = True


def get(name: str) -> type[Collector]:
    load_all()
    return _COLLECTORS[name]


def names() -> list[str]:
    load_all()
    return sorted(_COLLECTORS)
