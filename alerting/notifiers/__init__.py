"""Chat and mail channels, one module each over one interface (``base.Notifier``).

A notifier module registers itself (``@register_notifier``) with its channel model
(``Options``); ``load_all`` imports every module of this package, and ``alerting.config`` builds
the ``channels:`` union from the registry. A new channel is one module here, nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from functools import cache
from typing import Any

from alerting.notifiers.base import NOTIFIERS, Notifier

HELPERS = ("base", "http")  # modules of this package that are not a channel


@cache
def load_all() -> None:
    """Import every notifier module of this package so that each registers itself."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_") and module.name not in HELPERS:
            importlib.import_module(f"{__name__}.{module.name}")


def make_notifier(name: str, options: Any, clock: Callable[[], float] | None = None) -> Notifier:
    """The notifier for a configured channel (``options.type`` picks the module)."""
    load_all()
    cls = NOTIFIERS[options.type]
    return cls(name, options) if clock is None else cls(name, options, clock)


def notifier_types() -> list[str]:
    load_all()
    return NOTIFIERS.names()
