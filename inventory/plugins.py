"""What the packages above inventory add to the config: sections and probe kinds.

Inventory imports none of them. Each package names a ``register()`` function under the entry
point group ``yunwei.plugins`` (pyproject.toml); ``load_plugins()`` calls every one once before
the first config is loaded, and each registers its config sections (``alerting:``,
``exporters:``, ``contracts:`` …) and probe kinds (the collectors) here. A new section or
collector is one module plus its registration; nothing in inventory changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from inventory.models import Target

log = logging.getLogger("yunwei.plugins")

ENTRY_POINT_GROUP = "yunwei.plugins"


@dataclass(frozen=True)
class Section:
    """A top-level config key owned by another package.

    The model may define ``check_references(inventory) -> list[(path, message)]`` to refuse
    references to units, groups or devices that do not exist."""

    name: str
    model: Any  # a pydantic model or a type pydantic validates (list[ContractRef])
    default: Callable[[], Any]


class ProbeKind(Protocol):
    """What the config loader needs of a collector class."""

    name: ClassVar[str]
    Options: ClassVar[type[BaseModel]]
    default_interval: ClassVar[float | None]
    in_rounds: ClassVar[bool]

    @classmethod
    def check_target(cls, target: Target, inventory: Any) -> list[tuple[str, str]]: ...


SECTIONS: dict[str, Section] = {}
PROBE_KINDS: dict[str, Any] = {}
K = TypeVar("K")


class DuplicateNameError(Exception):
    pass


def register_section(name: str, model: Any, default: Callable[[], Any]) -> None:
    existing = SECTIONS.get(name)
    if existing is not None and existing.model is not model:
        raise DuplicateNameError(f"config section {name!r} is registered twice")
    SECTIONS[name] = Section(name, model, default)


def register_probe_kind(cls: K) -> K:
    """Make a collector class known under its ``name`` (duplicate names are refused)."""
    name = getattr(cls, "name", None)
    if not name:
        raise ValueError(f"{getattr(cls, '__qualname__', cls)} has no name")
    existing = PROBE_KINDS.get(name)
    if existing is not None and existing is not cls:
        raise DuplicateNameError(f"collector name {name!r} is taken by {existing.__module__}.{existing.__qualname__}")
    PROBE_KINDS[name] = cls
    return cls


def probe_kind(name: str) -> ProbeKind:
    load_plugins()
    return PROBE_KINDS[name]


def probe_kind_names() -> list[str]:
    load_plugins()
    return sorted(PROBE_KINDS)


@cache
def load_plugins() -> None:
    """Call every registered plugin's ``register()`` once."""
    found = entry_points(group=ENTRY_POINT_GROUP)
    if not found:
        raise RuntimeError(
            "no yunwei plugins are registered: install the package (pip install -e . or the wheel) "
            "so that its entry points exist"
        )
    for entry in sorted(found, key=lambda e: e.name):
        entry.load()()
