"""The ``exporters:`` section, built from the registered exporters (``exporters.base.EXPORTERS``).

Each exporter's ``Settings`` is the section under its name; an absent section means that
exporter is off, any other key is an exporter we do not have (reported at its own line). A new
exporter is one module of this package that registers itself; ``load_all`` imports it.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field

import exporters
from exporters.base import EXPORTERS
from inventory.models import Strict
from inventory.plugins import drop_field, rebind_field

HELPERS = ("base", "config", "families", "health", "hooks", "lineproto", "section", "spool")  # not exporters


def _reject_unknown_exporter(value: Any) -> Any:
    raise ValueError(f"unknown exporter (known: {', '.join(EXPORTERS.names())})")


UnknownExporter = Annotated[Any, BeforeValidator(_reject_unknown_exporter)]


class ExportersConfig(Strict):
    """Which exporters run and how they reach their backend (absent = off). One field per
    registered exporter, added by ``sync_fields``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    # any other key is an exporter we do not have: reported at its own line
    __pydantic_extra__: dict[str, UnknownExporter] = Field(init=False)  # type: ignore[assignment]

    def enabled(self) -> dict[str, Any]:
        """The configured and enabled exporters' settings by name."""
        found: dict[str, Any] = {}
        for name in EXPORTERS.names():
            settings = getattr(self, name, None)
            if settings is not None and settings.enabled:
                found[name] = settings
        return found


def sync_fields() -> None:
    """One optional field per registered exporter (called again when one registers late)."""
    for name, cls in EXPORTERS.entries.items():
        if name not in ExportersConfig.__pydantic_fields__:
            rebind_field(ExportersConfig, name, cls.Settings | None, None)
    for name in [n for n in ExportersConfig.__pydantic_fields__ if n not in EXPORTERS]:
        drop_field(ExportersConfig, name)


@cache
def load_all() -> None:
    """Import every exporter module of this package so that each registers itself."""
    for module in pkgutil.iter_modules(exporters.__path__):
        if not module.name.startswith("_") and module.name not in HELPERS:
            importlib.import_module(f"exporters.{module.name}")


load_all()
sync_fields()
EXPORTERS.on_late_register(sync_fields)
